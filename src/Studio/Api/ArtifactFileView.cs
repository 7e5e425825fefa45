namespace PostTrain.Studio.Api;

/// <summary>One file of a stored artifact: its path inside the artifact ('/'-separated) and its size.</summary>
public sealed record ArtifactFileView(string Name, long Bytes);
