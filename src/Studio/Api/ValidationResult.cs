namespace PostTrain.Studio.Api;

/// <summary>The answer of a validate call: the same problems <c>posttrain validate</c> prints.</summary>
public sealed record ValidationResult(bool Valid, IReadOnlyList<ProblemView> Problems);
