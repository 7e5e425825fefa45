namespace PostTrain.Sampling.Rejection;

/// <summary>A sampled response with its reward and, for a verifiable task, whether the checker accepts it (null otherwise).
/// Score is NaN when the reward model never scored it (<see cref="CheckerMode.RequireCorrect"/> on a prompt without a correct response).</summary>
public sealed record ScoredResponse(SampledResponse Response, double Score, bool? Correct = null);
