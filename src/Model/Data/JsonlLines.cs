using System.Text;
using System.Text.Json;

namespace PostTrain.Model.Data;

/// <summary>
/// Splits a JSONL file into numbered, strictly UTF-8-decoded, well-formed JSON lines. Bytes are decoded per line
/// with a throwing decoder so an invalid byte is reported on its own line instead of becoming U+FFFD silently.
/// </summary>
internal static class JsonlLines
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Yields (line number, text, null) for each non-blank line that parses as JSON, else (line, null, error).</summary>
    public static IEnumerable<(int Line, string? Text, ImportError? Error)> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var endsWithNewline = bytes.Length > 0 && bytes[^1] == (byte)'\n';
        var start = 0;
        var line = 0;
        if (bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble)) start = Encoding.UTF8.Preamble.Length;
        while (start < bytes.Length)
        {
            line++;
            var nl = Array.IndexOf(bytes, (byte)'\n', start);
            var end = nl < 0 ? bytes.Length : nl;
            var isLast = nl < 0 || nl == bytes.Length - 1;
            var length = end - start;
            if (length > 0 && bytes[end - 1] == (byte)'\r') length--;
            var segment = new ReadOnlyMemory<byte>(bytes, start, length);
            start = end + 1;

            string? text = null;
            ImportError? decodeError = null;
            try { text = Strict.GetString(segment.Span); }
            catch (DecoderFallbackException e)
            {
                var bad = e.BytesUnknown is { Length: > 0 } b ? string.Join(" ", b.Select(x => $"0x{x:X2}")) : "?";
                decodeError = new ImportError(path, line, "line", $"invalid UTF-8 at byte {e.Index} of the line ({bad}); expected UTF-8 text");
            }
            if (decodeError is not null || text is null)
            {
                yield return (line, null, decodeError);
                continue;
            }
            if (string.IsNullOrWhiteSpace(text)) continue;

            string? problem = null;
            try { using var _ = JsonDocument.Parse(text); }
            catch (JsonException e)
            {
                problem = isLast && !endsWithNewline
                    ? $"truncated last line: no trailing newline and the JSON is incomplete ({e.Message})"
                    : $"malformed JSON: {e.Message}";
            }
            yield return problem is null ? (line, text, null) : (line, null, new ImportError(path, line, problem.StartsWith("truncated", StringComparison.Ordinal) ? "line" : "json", problem));
        }
    }
}
