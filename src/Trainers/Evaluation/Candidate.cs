namespace PostTrain.Trainers.Evaluation;

/// <summary>A policy checkpoint competing in a round, e.g. one DPO variant.</summary>
/// <param name="Name">Unique within the round, e.g. "dpo-sigmoid-b0.1-lr1e-5".</param>
/// <param name="CheckpointDir">Where the policy is.</param>
/// <param name="Hyperparameters">What produced it (β, learning rate, ...), carried into the report.</param>
public sealed record Candidate(string Name, string CheckpointDir, IReadOnlyDictionary<string, double>? Hyperparameters = null);
