namespace PostTrain.Sampling;

/// <summary>Where a response came from, so a kept SFT example or preference pair can be traced to its sampler.</summary>
/// <param name="Round">Post-training round.</param>
/// <param name="SamplerCheckpoint">Hash of the policy checkpoint that sampled it (null for an unsaved model).</param>
/// <param name="Seed">Sampling seed.</param>
/// <param name="Temperature">Sampling temperature.</param>
/// <param name="TopP">Nucleus threshold.</param>
/// <param name="TopK">Top-k (0 = off).</param>
public sealed record SamplingProvenance(int Round, string? SamplerCheckpoint, long Seed, double Temperature, double TopP, int TopK);
