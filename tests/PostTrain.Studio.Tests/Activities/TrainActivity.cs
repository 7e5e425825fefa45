using PostTrain.Core.Progress;
using PostTrain.Workflows.Activities;
using PostTrain.Engine.Store;

namespace PostTrain.Studio.Tests.Activities;

/// <summary>A cheap stand-in for a training stage: waits in slices with progress, records a loss and an accuracy, and stores a checkpoint with its parent.</summary>
[Activity("TinyTrain", Category = "Test", Description = "Cheap training stand-in: progress, metrics and a checkpoint with lineage.")]
public sealed class TrainActivity : Activity<TrainActivity.Inputs, TrainActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Starting value", Required = true)] public double Value { get; init; }
        [Input("Milliseconds to spend")] public int Ms { get; init; } = 200;
        [Input("Checkpoint this one continues from")] public ArtifactRef? Parent { get; init; }
    }

    public sealed class Outputs
    {
        [Output("value + 1")] public double Value { get; init; }
        [Output("The checkpoint")] public ArtifactRef Checkpoint { get; init; }
    }

    public override async Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        const int slices = 5;
        for (var i = 0; i < slices; i++)
        {
            await Task.Delay(Math.Max(1, input.Ms / slices), context.CancellationToken);
            context.Progress.Report(new StageProgress("train", i + 1, slices, "step", new Dictionary<string, double> { ["loss"] = 1.0 / (input.Value + i + 1) }));
        }
        var value = input.Value + 1;
        context.RecordMetric("sft_loss", 1.0 / (1 + value));
        context.RecordMetric("win_rate", value / (value + 1));
        var checkpoint = context.Artifacts.PutDirectory(dir => File.WriteAllText(Path.Combine(dir, "value.txt"), $"{value} {context.StepPath}"));
        context.RegisterCheckpoint(checkpoint, "policy", parent: input.Parent, name: $"{context.StepPath}");
        return new Outputs { Value = value, Checkpoint = checkpoint };
    }
}
