using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostTrain.Engine.Store;

/// <summary>Reads run snapshots (<c>HOME/runs/*.json</c>); safe while another process owns the database.</summary>
public static class SnapshotReader
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    public static IReadOnlyList<RunSnapshot> List(PostTrainHome home) =>
        Directory.EnumerateFiles(home.RunsDirectory, "*.json")
            .Select(TryRead).OfType<RunSnapshot>()
            .OrderByDescending(r => r.CreatedAt).ToList();

    /// <summary>A run by full id or unique id prefix; null if none matches.</summary>
    public static RunSnapshot? Find(PostTrainHome home, string idOrPrefix) =>
        Guid.TryParse(idOrPrefix, out var id) ? TryRead(home.SnapshotPath(id)) : Match(List(home), idOrPrefix);

    /// <summary>The run among <paramref name="runs"/> with this full id or unique id prefix; null if none or several match.</summary>
    public static RunSnapshot? Match(IEnumerable<RunSnapshot> runs, string idOrPrefix)
    {
        if (Guid.TryParse(idOrPrefix, out var id)) return runs.FirstOrDefault(r => r.Id == id);
        var matches = runs.Where(r => r.Id.ToString("D").StartsWith(idOrPrefix, StringComparison.OrdinalIgnoreCase) || r.Id.ToString("N").StartsWith(idOrPrefix, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    private static RunSnapshot? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<RunSnapshot>(File.ReadAllText(path), Json) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }
}
