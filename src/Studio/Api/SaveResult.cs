namespace PostTrain.Studio.Api;

/// <summary>A saved workflow: its name and new ETag.</summary>
public sealed record SaveResult(string Name, string ETag, IReadOnlyList<ProblemView> Problems);
