namespace PostTrain.Studio.Api;

/// <summary>A workflow file in the list: name (file name), id, description, whether it validates, and its ETag.</summary>
public sealed record WorkflowSummary(string Name, string Id, string Description, int Version, bool Valid, int Problems, string ETag, DateTime Modified);
