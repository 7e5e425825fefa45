using System.Text.Json;

namespace PostTrain.Model.Tokenization;

/// <summary>The BPE <c>model</c> section of a Hugging Face tokenizer.json, shared by the byte-level and SentencePiece-style readers.</summary>
internal static class HfBpeJson
{
    /// <summary>Reads and parses a tokenizer.json; invalid JSON fails with the path.</summary>
    public static JsonDocument Parse(string path, out byte[] bytes)
    {
        bytes = File.ReadAllBytes(path);
        try { return JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
    }

    /// <summary>model.vocab: token string → id.</summary>
    public static Dictionary<string, int> ReadVocab(JsonElement model, string path)
    {
        if (!model.TryGetProperty("vocab", out var vocabEl) || vocabEl.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: model.vocab: missing or not an object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocabEl.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id) || id < 0)
                throw new InvalidDataException($"{path}: model.vocab[\"{p.Name}\"]: expected a non-negative integer id, found {p.Value.GetRawText()}");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    /// <summary>model.merges in rank order, each written "a b" (older files) or ["a", "b"] (newer ones).</summary>
    public static List<(int A, int B, int Merged)> ReadMerges(JsonElement model, Dictionary<string, int> vocab, string path)
    {
        string Fail(int r, string reason) => throw new InvalidDataException($"{path}: model.merges[{r}]: {reason}");
        if (!model.TryGetProperty("merges", out var mergesEl) || mergesEl.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: model.merges: missing or not an array");
        var merges = new List<(int, int, int)>();
        var r = 0;
        foreach (var m in mergesEl.EnumerateArray())
        {
            string? a = null, b = null;
            if (m.ValueKind == JsonValueKind.String && m.GetString()!.Split(' ') is [var x, var y]) { a = x; b = y; }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
            { a = m[0].GetString(); b = m[1].GetString(); }
            if (a is null || b is null) Fail(r, $"expected \"a b\" or [\"a\", \"b\"], found {m.GetRawText()}");
            if (!vocab.TryGetValue(a!, out var ia)) Fail(r, $"\"{a}\" is not in the vocab");
            if (!vocab.TryGetValue(b!, out var ib)) Fail(r, $"\"{b}\" is not in the vocab");
            if (!vocab.TryGetValue(a + b, out var im)) Fail(r, $"the merged token \"{a + b}\" is not in the vocab");
            merges.Add((ia, ib, im));
            r++;
        }
        return merges;
    }
}
