using System.Text;
using System.Text.Json;

namespace PostTrain.Model.Data;

/// <summary>
/// Splits a JSONL file into numbered, strictly UTF-8-decoded, well-formed JSON lines, streaming: memory is bounded by
/// the longest line (at most <see cref="MaxLineBytes"/>), not the file. Bytes are decoded per line with a throwing
/// decoder so an invalid byte is reported on its own line instead of becoming U+FFFD silently. UTF-16/32 text (by
/// its byte-order mark), NUL bytes, over-long lines and strings holding a lone surrogate (<c>"\ud800"</c>) are
/// refused with their line. A UTF-8 byte-order mark is skipped.
/// </summary>
internal static class JsonlLines
{
    /// <summary>Longest accepted line: 8 MiB, far above any real prompt or conversation, far below a file read whole by mistake.</summary>
    public const int MaxLineBytes = 8 << 20;

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Yields (line number, text, null) for each non-blank line that parses as JSON, else (line, null, error).</summary>
    public static IEnumerable<(int Line, string? Text, ImportError? Error)> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var head = new byte[4];
        var headLength = stream.Read(head, 0, 4);
        if (Utf16Or32(head.AsSpan(0, headLength)) is { } encoding)
        {
            yield return (1, null, new ImportError(path, 1, "file", $"{encoding} text (byte-order mark {Convert.ToHexString(head, 0, encoding.StartsWith("UTF-32", StringComparison.Ordinal) ? 4 : 2)}); expected UTF-8"));
            yield break;
        }
        stream.Position = head.AsSpan(0, headLength).StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;

        var buffer = new byte[1 << 16];
        var line = new MemoryStream();
        var lineNo = 0;
        var overLong = false;
        int read;
        var sawAny = false;
        var endsWithNewline = false;
        while (true)
        {
            read = stream.Read(buffer, 0, buffer.Length);
            if (read == 0) break;
            var start = 0;
            while (start < read)
            {
                sawAny = true;
                var nl = Array.IndexOf(buffer, (byte)'\n', start, read - start);
                var end = nl < 0 ? read : nl;
                if (!overLong)
                {
                    if (line.Length + (end - start) > MaxLineBytes) { overLong = true; line.SetLength(0); }
                    else line.Write(buffer, start, end - start);
                }
                if (nl < 0) { endsWithNewline = false; break; }
                endsWithNewline = true;
                lineNo++;
                var result = Line(path, lineNo, line, overLong, isLast: false, endsWithNewline: true);
                line.SetLength(0);
                overLong = false;
                start = nl + 1;
                if (result is { } r) yield return r;
            }
        }
        if (sawAny && !endsWithNewline && (line.Length > 0 || overLong))
        {
            lineNo++;
            if (Line(path, lineNo, line, overLong, isLast: true, endsWithNewline: false) is { } r) yield return r;
        }
    }

    private static (int, string?, ImportError?)? Line(string path, int lineNo, MemoryStream bytes, bool overLong, bool isLast, bool endsWithNewline)
    {
        if (overLong) return (lineNo, null, new ImportError(path, lineNo, "line", $"longer than {MaxLineBytes} bytes; expected one JSON object per line"));
        var span = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
        if (span.Length > 0 && span[^1] == (byte)'\r') span = span[..^1];
        if (span.IndexOf((byte)0) is var nul and >= 0)
            return (lineNo, null, new ImportError(path, lineNo, "line", $"NUL byte at byte {nul} of the line; expected UTF-8 text (is this UTF-16?)"));
        string text;
        try { text = Strict.GetString(span); }
        catch (DecoderFallbackException e)
        {
            var bad = e.BytesUnknown is { Length: > 0 } b ? string.Join(" ", b.Select(x => $"0x{x:X2}")) : "?";
            return (lineNo, null, new ImportError(path, lineNo, "line", $"invalid UTF-8 at byte {e.Index} of the line ({bad}); expected UTF-8 text"));
        }
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (LoneSurrogate(doc.RootElement, "$") is { } field)
                return (lineNo, null, new ImportError(path, lineNo, field, "a lone UTF-16 surrogate (\\ud800-\\udfff escape without its pair); expected valid Unicode text"));
        }
        catch (JsonException e)
        {
            return isLast && !endsWithNewline
                ? (lineNo, null, new ImportError(path, lineNo, "line", $"truncated last line: no trailing newline and the JSON is incomplete ({e.Message})"))
                : (lineNo, null, new ImportError(path, lineNo, "json", $"malformed JSON: {e.Message}"));
        }
        return (lineNo, text, null);
    }

    /// <summary>The JSON path of the first string or property name that does not transcode (a lone surrogate), or null.</summary>
    private static string? LoneSurrogate(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                try { element.GetString(); }
                catch (InvalidOperationException) { return path; }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                    if (LoneSurrogate(item, $"{path}[{i++}]") is { } bad) return bad;
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try { name = property.Name; }
                    catch (InvalidOperationException) { return path; }
                    if (LoneSurrogate(property.Value, path == "$" ? name : $"{path}.{name}") is { } bad) return bad;
                }
                return null;
            default:
                return null;
        }
    }

    private static string? Utf16Or32(ReadOnlySpan<byte> head) => head switch
    {
        [0xFF, 0xFE, 0, 0, ..] => "UTF-32LE",
        [0, 0, 0xFE, 0xFF, ..] => "UTF-32BE",
        [0xFF, 0xFE, ..] => "UTF-16LE",
        [0xFE, 0xFF, ..] => "UTF-16BE",
        _ => null,
    };
}
