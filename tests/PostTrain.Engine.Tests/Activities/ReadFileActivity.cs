using PostTrain.Engine.Activities;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Tests.Activities;

[Activity("CountLines", Category = "Test", Description = "Counts the non-empty lines of a file artifact.")]
public sealed class ReadFileActivity : Activity<ReadFileActivity.Inputs, ReadFileActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("A file artifact", Required = true)] public ArtifactRef File { get; init; }
    }

    public sealed class Outputs
    {
        [Output("Non-empty lines")] public int Lines { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context) =>
        Task.FromResult(new Outputs { Lines = System.IO.File.ReadAllLines(context.Artifacts.GetPath(input.File)).Count(l => l.Trim().Length > 0) });
}
