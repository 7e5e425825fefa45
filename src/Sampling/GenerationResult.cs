namespace PostTrain.Sampling;

/// <summary>Token-level output of <see cref="Sampler.Generate"/>: sequences ordered by prompt (input order) then sample index.</summary>
public sealed record GenerationResult(IReadOnlyList<SampledSequence> Sequences, SamplingStats Stats);
