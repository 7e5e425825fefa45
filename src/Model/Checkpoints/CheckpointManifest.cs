using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PostTrain.Model.Checkpoints;

/// <summary>
/// <c>manifest.json</c>: SHA-256 and size of every file in a checkpoint directory, sorted by relative path. Its own
/// SHA-256 is the checkpoint's hash, so two checkpoints with equal files have equal hashes.
/// </summary>
internal static class CheckpointManifest
{
    public const string FileName = "manifest.json";
    public const string Format = "posttrain-checkpoint/1";

    public sealed record Entry(string Sha256, long Size);

    /// <summary>Files under <paramref name="dir"/> (relative, '/'-separated), skipping the manifest and hidden temp files.</summary>
    public static SortedDictionary<string, Entry> Scan(string dir)
    {
        var files = new SortedDictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(dir, path).Replace(Path.DirectorySeparatorChar, '/');
            if (rel == FileName || rel.Split('/').Any(p => p.StartsWith('.'))) continue;
            files[rel] = new Entry(HashFile(path), new FileInfo(path).Length);
        }
        return files;
    }

    public static byte[] Serialize(SortedDictionary<string, Entry> files)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteStartObject("files");
            foreach (var (name, e) in files)
            {
                w.WriteStartObject(name);
                w.WriteString("sha256", e.Sha256);
                w.WriteNumber("size", e.Size);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    public static SortedDictionary<string, Entry> Parse(string path)
    {
        var files = new SortedDictionary<string, Entry>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            if (!root.TryGetProperty("files", out var fs) || fs.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: field 'files' is missing or not an object");
            foreach (var f in fs.EnumerateObject())
            {
                if (!f.Value.TryGetProperty("sha256", out var sha) || sha.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}: files.{f.Name}.sha256 is missing or not a string");
                if (!f.Value.TryGetProperty("size", out var size) || !size.TryGetInt64(out var n))
                    throw new InvalidDataException($"{path}: files.{f.Name}.size is missing or not an integer");
                if (f.Name.Contains("..") || Path.IsPathRooted(f.Name))
                    throw new InvalidDataException($"{path}: file name '{f.Name}' leaves the checkpoint directory");
                files[f.Name] = new Entry(sha.GetString()!, n);
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
        return files;
    }

    /// <summary>Checks every listed file's size, then its SHA-256; a mismatch names the file, actual and expected.</summary>
    public static void Verify(string dir)
    {
        var manifestPath = Path.Combine(dir, FileName);
        foreach (var (name, expected) in Parse(manifestPath))
        {
            var path = Path.Combine(dir, name);
            if (!File.Exists(path))
                throw new InvalidDataException($"{path}: missing, but {manifestPath} lists it ({expected.Size} bytes)");
            var size = new FileInfo(path).Length;
            if (size != expected.Size)
                throw new InvalidDataException($"{path}: {size} bytes, expected {expected.Size} from {FileName}; the file is truncated or was modified");
            var sha = HashFile(path);
            if (!string.Equals(sha, expected.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{path}: SHA-256 {sha}, expected {expected.Sha256} from {FileName}; the file was modified or corrupted");
        }
    }

    public static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string HashBytes(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Utf8(byte[] b) => Encoding.UTF8.GetString(b);
}
