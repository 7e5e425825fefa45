namespace PostTrain.Sampling.Rejection;

/// <summary>A sampled response with its reward and, for a verifiable task, whether the checker accepts it (null otherwise).</summary>
public sealed record ScoredResponse(SampledResponse Response, double Score, bool? Correct = null);
