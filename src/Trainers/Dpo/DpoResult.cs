namespace PostTrain.Trainers.Dpo;

/// <summary>What a DPO run measured, under TRL's metric names.</summary>
/// <param name="Metrics">Means over the last epoch's steps: loss, rewards/chosen, rewards/rejected, rewards/accuracies,
/// rewards/margins, logps/chosen, logps/rejected, nll_loss.</param>
/// <param name="History">The same names per step, with learning_rate and grad_norm.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="TokensPerSecond">Non-pad tokens forwarded per second of training.</param>
/// <param name="ReferenceForwardPasses">Reference forwards this run caused (0 when the cache was reused).</param>
/// <param name="CheckpointDir">Where the trained policy was saved, when it was.</param>
public sealed record DpoResult(
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<IReadOnlyDictionary<string, double>> History,
    int Steps,
    double TokensPerSecond,
    int ReferenceForwardPasses,
    string? CheckpointDir = null);
