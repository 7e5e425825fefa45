namespace PostTrain.Trainers.Sft;

/// <summary>What an SFT run measured. Losses are mean cross-entropy (nats) per response token.</summary>
/// <param name="TrainLoss">Token-weighted mean loss over the last epoch's steps.</param>
/// <param name="HeldOutLoss">Loss on the held-out examples after training; null when none were given.</param>
/// <param name="TokensPerSecond">Non-pad tokens forwarded per second of training (forward, backward, step).</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="TrainTokens">Non-pad tokens forwarded in training.</param>
/// <param name="LossHistory">Loss of each step, in order.</param>
/// <param name="HeldOutByStep">Held-out loss keyed by the step after which it was measured.</param>
/// <param name="CheckpointDir">Where the trained policy was saved, when it was.</param>
public sealed record SftResult(
    double TrainLoss,
    double? HeldOutLoss,
    double TokensPerSecond,
    int Steps,
    long TrainTokens,
    IReadOnlyList<double> LossHistory,
    IReadOnlyDictionary<int, double> HeldOutByStep,
    string? CheckpointDir = null)
{
    /// <summary>Scalars under the names the stage reports: train/loss, eval/loss, train/tokens_per_second, train/steps.</summary>
    public IReadOnlyDictionary<string, double> Metrics()
    {
        var m = new Dictionary<string, double>
        {
            ["train/loss"] = TrainLoss,
            ["train/tokens_per_second"] = TokensPerSecond,
            ["train/steps"] = Steps,
        };
        if (HeldOutLoss is { } h) m["eval/loss"] = h;
        return m;
    }
}
