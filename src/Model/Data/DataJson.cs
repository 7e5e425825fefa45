using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostTrain.Model.Data;

/// <summary>One JSON shape for every PostTrain JSONL file: snake_case like Hugging Face datasets, nulls omitted.</summary>
internal static class DataJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    /// <summary>Writes one object per line, temp-then-rename, so readers never see half a file.</summary>
    public static void WriteLines<T>(string path, IEnumerable<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        AtomicFile.Write(path, stream =>
        {
            var newline = "\n"u8.ToArray();
            foreach (var item in items)
            {
                JsonSerializer.Serialize(stream, item, Options);
                stream.Write(newline);
            }
        });
    }
}
