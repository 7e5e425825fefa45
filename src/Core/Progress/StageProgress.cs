namespace PostTrain.Core.Progress;

/// <summary>
/// One progress report from a stage (pretraining, sampling, SFT, ...). Stages report through
/// <see cref="IProgress{T}"/>; the CLI draws bars from it and workers forward it as heartbeats.
/// </summary>
/// <param name="Stage">Short name of the work, e.g. "pretrain", "sample", "dpo".</param>
/// <param name="Step">Units done so far (optimizer steps, prompts, pairs).</param>
/// <param name="Total">Units in all, so a bar and an ETA can be drawn.</param>
/// <param name="Unit">What a unit is, e.g. "step", "prompt".</param>
/// <param name="Metrics">Latest scalar metrics (loss, lr, tokens/s, ...), named as the stage documents them.</param>
public sealed record StageProgress(string Stage, long Step, long Total, string Unit, IReadOnlyDictionary<string, double> Metrics)
{
    public double Fraction => Total <= 0 ? 0 : Math.Clamp((double)Step / Total, 0, 1);
}
