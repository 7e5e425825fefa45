namespace PostTrain.Engine.Artifacts;

/// <summary>
/// The artifact transfer's HTTP vocabulary, shared by <see cref="ArtifactServer"/> and <see cref="ArtifactClient"/>:
/// <c>HEAD /artifacts/HASH</c> (held? kind, size), <c>GET /artifacts/HASH</c> (a file's bytes, ranges allowed, or a
/// directory's <see cref="ArtifactManifest"/>), <c>GET /artifacts/HASH/files/PATH</c> (one file of a directory,
/// ranges allowed), <c>PUT /artifacts/HASH</c> (a file's bytes, or a directory as a tar stream; kept only if the
/// content hashes to HASH). Every request carries <c>Authorization: Bearer TOKEN</c>.
/// </summary>
public static class ArtifactProtocol
{
    public const string KindHeader = "X-PostTrain-Artifact";
    public const string SizeHeader = "X-PostTrain-Size";
    public const string File = "file";
    public const string Directory = "directory";

    public static string PathOf(string hash) => $"artifacts/{hash}";

    public static string FileOf(string hash, string relative) =>
        $"artifacts/{hash}/files/{string.Join('/', relative.Split('/').Select(Uri.EscapeDataString))}";
}
