using System.Text.Json;
using System.Text.Json.Serialization;
using PostTrain.Model.Checkpoints;

namespace PostTrain.Model.Prompts;

/// <summary>The stored form of an imported prompt file: one <see cref="PromptRow"/> per line, written by <see cref="PromptImporter"/>.</summary>
public static class PromptDataset
{
    /// <summary>Share of prompts held out for evaluation, by prompt hash (<see cref="TaskGenerator.SplitOf(string, double)"/>).</summary>
    public const double HeldOutFraction = 0.1;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize(PromptRow row) => JsonSerializer.Serialize(row, Json);

    /// <summary>Streams the rows of a stored dataset.</summary>
    /// <exception cref="InvalidDataException">A line is not a prompt row; the message names the file and line.</exception>
    public static IEnumerable<PromptRow> Read(string path)
    {
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0) continue;
            PromptRow? row;
            try { row = JsonSerializer.Deserialize<PromptRow>(line, Json); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNo}: not a prompt row: {e.Message}", e); }
            yield return row ?? throw new InvalidDataException($"{path}:{lineNo}: not a prompt row: null");
        }
    }

    public static void Write(string path, IEnumerable<PromptRow> rows) =>
        AtomicFile.WriteAllText(path, string.Concat(rows.Select(r => Serialize(r) + "\n")));
}
