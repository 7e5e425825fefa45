using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using PostTrain.Model.Checkpoints;

namespace PostTrain.Sampling;

/// <summary>
/// The samples JSONL file: one <see cref="SampledResponse"/> per line, snake_case like the other PostTrain JSONL files
/// (prompt_id, prompt, sample_index, response, token_ids, sum_log_prob, stopped, provenance). Written temp-then-rename.
/// </summary>
public static class SampleFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(string path, IEnumerable<SampledResponse> responses)
    {
        ArgumentNullException.ThrowIfNull(responses);
        AtomicFile.Write(path, stream =>
        {
            var newline = "\n"u8.ToArray();
            foreach (var r in responses)
            {
                JsonSerializer.Serialize(stream, r, Json);
                stream.Write(newline);
            }
        });
    }

    /// <summary>Reads every line; a bad line throws naming the file, the line number and the reason.</summary>
    public static IReadOnlyList<SampledResponse> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: samples file does not exist", path);
        var result = new List<SampledResponse>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            SampledResponse? r;
            try { r = JsonSerializer.Deserialize<SampledResponse>(line, Json); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNo}: not a sampled response: {e.Message}", e); }
            if (r is null) throw new InvalidDataException($"{path}:{lineNo}: null, expected a sampled response object");
            if (string.IsNullOrEmpty(r.PromptId)) throw new InvalidDataException($"{path}:{lineNo}: prompt_id is missing or empty");
            if (r.Prompt is null || r.Response is null || r.TokenIds is null || r.Provenance is null)
                throw new InvalidDataException($"{path}:{lineNo}: prompt, response, token_ids and provenance are required");
            if (r.SampleIndex < 0) throw new InvalidDataException($"{path}:{lineNo}: sample_index is {r.SampleIndex}, expected >= 0");
            result.Add(r);
        }
        return result;
    }
}
