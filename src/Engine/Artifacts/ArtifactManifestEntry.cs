namespace PostTrain.Engine.Artifacts;

/// <summary>One file of a directory artifact: its path relative to the directory ('/'-separated), size and content hash.</summary>
public sealed record ArtifactManifestEntry(string Path, long Size, string Sha256);
