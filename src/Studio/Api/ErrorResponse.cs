namespace PostTrain.Studio.Api;

/// <summary>Every 4xx body: the reason, and the definition's problems when there are any.</summary>
public sealed record ErrorResponse(string Error, IReadOnlyList<ProblemView>? Problems = null);
