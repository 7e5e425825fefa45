using PostTrain.Workflows.Activities;
using PostTrain.Engine.Store;

namespace PostTrain.Studio.Tests.Activities;

/// <summary>Picks the candidate with the highest score: the stand-in for a round's selection step.</summary>
[Activity("SelectByScore", Category = "Test", Description = "Picks the best of several checkpoints by score.")]
public sealed class SelectBestActivity : Activity<SelectBestActivity.Inputs, SelectBestActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Candidate checkpoints", Required = true)] public ArtifactRef[] Candidates { get; init; } = [];
        [Input("One score per candidate", Required = true)] public double[] Scores { get; init; } = [];
    }

    public sealed class Outputs
    {
        [Output("The chosen checkpoint")] public ArtifactRef Best { get; init; }
        [Output("Its score")] public double Score { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.Candidates.Length == 0 || input.Candidates.Length != input.Scores.Length)
            throw new ArgumentException($"expected as many scores as candidates, got {input.Scores.Length} scores for {input.Candidates.Length} candidates");
        var best = Enumerable.Range(0, input.Scores.Length).MaxBy(i => input.Scores[i]);
        context.RecordMetric("heldout_accuracy", input.Scores[best] / (input.Scores[best] + 1));
        // As the real SelectBest does: the picked checkpoint is registered again, by a step that did not make it.
        context.RegisterCheckpoint(input.Candidates[best], "selected", name: "selected");
        return Task.FromResult(new Outputs { Best = input.Candidates[best], Score = input.Scores[best] });
    }
}
