using System.Text;
using System.Text.Json;

namespace PostTrain.Pretrain.Data;

/// <summary>
/// Reads a user's own pretraining text: <c>.txt</c> files hold one document per blank-line-separated block,
/// <c>.jsonl</c> files one JSON object per line with a non-empty <c>"text"</c> string (the layout of most open
/// pretraining dumps). Every problem is reported as <c>FILE:LINE: reason</c>.
/// </summary>
public static class TextDocuments
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <exception cref="InvalidDataException">A file is missing, has an unsupported extension, is not UTF-8, is malformed, or holds no documents.</exception>
    public static IReadOnlyList<string> Load(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var documents = new List<string>();
        foreach (var path in paths)
        {
            if (!File.Exists(path)) throw new InvalidDataException($"{path}: file not found");
            var before = documents.Count;
            var ext = Path.GetExtension(path).ToLowerInvariant();
            switch (ext)
            {
                case ".txt": ReadText(path, documents); break;
                case ".jsonl": ReadJsonl(path, documents); break;
                default: throw new InvalidDataException($"{path}: unsupported extension '{ext}', expected .txt or .jsonl");
            }
            if (documents.Count == before) throw new InvalidDataException($"{path}:1: no documents in the file");
        }
        return documents;
    }

    private static IEnumerable<(int Line, string Text)> Lines(string path)
    {
        using var reader = new StreamReader(path, StrictUtf8, detectEncodingFromByteOrderMarks: true);
        var number = 0;
        while (true)
        {
            string? line;
            try { line = reader.ReadLine(); }
            catch (DecoderFallbackException) { throw new InvalidDataException($"{path}:{number + 1}: not valid UTF-8"); }
            if (line is null) yield break;
            yield return (++number, line);
        }
    }

    private static void ReadText(string path, List<string> documents)
    {
        var block = new StringBuilder();
        foreach (var (_, line) in Lines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (block.Length > 0) documents.Add(block.ToString());
                block.Clear();
                continue;
            }
            if (block.Length > 0) block.Append('\n');
            block.Append(line);
        }
        if (block.Length > 0) documents.Add(block.ToString());
    }

    private static void ReadJsonl(string path, List<string> documents)
    {
        foreach (var (number, line) in Lines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{number}: not valid JSON: {e.Message}", e); }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path}:{number}: expected a JSON object with a \"text\" string, found {root.ValueKind}");
                if (!root.TryGetProperty("text", out var text))
                    throw new InvalidDataException($"{path}:{number}: missing field \"text\"");
                if (text.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}:{number}: field \"text\" is {text.ValueKind}, expected a string");
                var value = text.GetString()!;
                if (value.Length == 0) throw new InvalidDataException($"{path}:{number}: field \"text\" is empty");
                documents.Add(value);
            }
        }
    }
}
