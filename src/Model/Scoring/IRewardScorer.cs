using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Scoring;

/// <summary>
/// What rejection sampling needs from a reward model: a scalar per (prompt, response) and the checkpoint it came from.
/// It lives below the stage libraries so that Sampling ranks responses without referencing the RewardModel project.
/// </summary>
public interface IRewardScorer
{
    /// <summary>One reward per item, in input order; <paramref name="batchSize"/> sequences per forward.</summary>
    float[] Score(IReadOnlyList<(IReadOnlyList<ChatMessage> prompt, string response)> items, int batchSize = 16);

    /// <summary>Hash of the scorer's checkpoint, recorded in provenance; null when it was never saved.</summary>
    string? CheckpointHash { get; }
}
