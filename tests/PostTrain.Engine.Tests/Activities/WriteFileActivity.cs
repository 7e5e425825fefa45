using PostTrain.Engine.Activities;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Tests.Activities;

[Activity("WriteFile", Category = "Test", Description = "Stores text as an artifact and registers it as a checkpoint.")]
public sealed class WriteFileActivity : Activity<WriteFileActivity.Inputs, WriteFileActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Text to store", Required = true)] public string Text { get; init; } = "";
        [Input("Parent checkpoint, if any")] public ArtifactRef? Parent { get; init; }
    }

    public sealed class Outputs
    {
        [Output("The stored file")] public ArtifactRef File { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var dir = context.Artifacts.PutDirectory(d => System.IO.File.WriteAllText(Path.Combine(d, "text.txt"), input.Text));
        context.RegisterCheckpoint(dir, "test", parent: input.Parent);
        context.RecordMetric("chars", input.Text.Length);
        return Task.FromResult(new Outputs { File = dir });
    }
}
