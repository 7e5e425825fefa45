using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Artifacts;

/// <summary>
/// The list of a directory artifact's files. Its <see cref="Digest"/> is the directory's content hash (each file's
/// relative path and SHA-256, in ordinal order), so a receiver checks a manifest against the <c>sha256:</c> it asked
/// for before it fetches a byte, then each file against its entry: a directory travels as its manifest plus one
/// resumable stream per file, never as one buffer.
/// </summary>
public sealed record ArtifactManifest(IReadOnlyList<ArtifactManifestEntry> Files)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Reads a directory (hashing every file).</summary>
    public static ArtifactManifest Of(string directory) =>
        new([.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => (Full: f, Relative: System.IO.Path.GetRelativePath(directory, f).Replace('\\', '/')))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .Select(f => new ArtifactManifestEntry(f.Relative, new FileInfo(f.Full).Length, ArtifactStore.HashFile(f.Full)))]);

    public string Digest()
    {
        var sb = new StringBuilder("dir\n");
        foreach (var f in Files) sb.Append(f.Path).Append('\0').Append(f.Sha256).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a manifest and checks every path (see <see cref="CheckPath"/>); throws <see cref="InvalidDataException"/>.</summary>
    public static ArtifactManifest Parse(string json)
    {
        ArtifactManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<ArtifactManifest>(json, Json); }
        catch (JsonException e) { throw new InvalidDataException($"artifact manifest: {e.Message}", e); }
        if (manifest?.Files is null) throw new InvalidDataException("artifact manifest: no files list");
        foreach (var f in manifest.Files)
        {
            CheckPath(f.Path);
            if (f.Size < 0 || f.Sha256 is not { Length: 64 } || !f.Sha256.All(char.IsAsciiHexDigitLower))
                throw new InvalidDataException($"artifact manifest: {f.Path}: size {f.Size} or sha256 '{f.Sha256}' is not valid");
        }
        return manifest;
    }

    /// <summary>
    /// A path inside a directory artifact is relative, '/'-separated, with no empty, '.' or '..' segment and no
    /// backslash or NUL: whatever a peer sends, nothing lands outside the directory it is written into.
    /// </summary>
    public static string CheckPath(string path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > 1024 || path.Contains('\\') || path.Contains('\0') || path.StartsWith('/')
            || path.Split('/').Any(s => s is "" or "." or ".."))
            throw new InvalidDataException($"artifact path '{path}' is not a relative path inside the artifact");
        return path;
    }
}
