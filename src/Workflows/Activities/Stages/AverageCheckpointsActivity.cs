using PostTrain.Model.Training;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("AverageCheckpoints", Category = "Training",
    Description = "Uniform weight average of checkpoints with the same config, as Llama 3 averages models from runs with different data or hyper-parameters.")]
public sealed class AverageCheckpointsActivity : Activity<AverageCheckpointsActivity.Inputs, AverageCheckpointsActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Checkpoints to average; a single one passes through", Required = true)] public ArtifactRef[] Checkpoints { get; init; } = [];
    }

    public sealed class Outputs
    {
        [Output("The averaged checkpoint")] public ArtifactRef Checkpoint { get; init; }
        [Output("Candidates: the inputs followed by their average")] public ArtifactRef[] Candidates { get; init; } = [];
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.Checkpoints.Length == 0) throw new ArgumentException("AverageCheckpoints got no checkpoints, expected at least 1");
        if (input.Checkpoints.Length == 1) // one variant: nothing to average, and it stays the only candidate
            return Task.FromResult(new Outputs { Checkpoint = input.Checkpoints[0], Candidates = [input.Checkpoints[0]] });
        var dirs = input.Checkpoints.Select((c, i) => StageSupport.PathOf(context, c, $"checkpoint {i}")).ToList();
        var checkpoint = context.Artifacts.PutDirectory(dir => CheckpointAveraging.Average(dirs, dir));
        context.RegisterCheckpoint(checkpoint, "average", parent: input.Checkpoints[0], name: $"average of {input.Checkpoints.Length}");
        return Task.FromResult(new Outputs { Checkpoint = checkpoint, Candidates = [.. input.Checkpoints, checkpoint] });
    }
}
