namespace PostTrain.Sampling;

/// <summary>Output of <see cref="Sampler.Sample"/>: responses ordered by prompt (input order) then sample index.</summary>
public sealed record SamplingResult(IReadOnlyList<SampledResponse> Responses, SamplingStats Stats);
