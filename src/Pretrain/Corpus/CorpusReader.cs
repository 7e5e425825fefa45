using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// Streams documents from <c>.jsonl</c> (one JSON object a line with a "text" string and an optional "id" string or
/// number) and <c>.txt</c> files (one document per blank-line-separated block, as <c>pretrain --data</c> reads them).
/// Lines are split on bytes and decoded one at a time, so only one line is ever in memory and every problem names
/// its line: <c>FILE:LINE: reason</c>.
/// </summary>
public sealed class CorpusReader(int maxLineBytes = 4 << 20)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Bytes consumed so far across every file read by this reader.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The file's format: <paramref name="format"/> ("jsonl" or "txt") when given (artifact files have no
    /// extension), else its extension.</summary>
    /// <exception cref="InvalidDataException">The format is neither jsonl nor txt.</exception>
    public static string FormatOf(string path, string? format = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var f = format ?? Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
        return f is "jsonl" or "txt" ? f
            : throw new InvalidDataException(format is null ? $"{path}: unsupported extension '{Path.GetExtension(path)}', expected .txt or .jsonl" : $"{path}: format '{format}', expected jsonl or txt");
    }

    /// <exception cref="InvalidDataException">The file is missing, of another format, or a line is bad.</exception>
    public IEnumerable<SourceDocument> Read(string path, string? format = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: file not found");
        return FormatOf(path, format) == "jsonl" ? ReadJsonl(path) : ReadText(path);
    }

    private IEnumerable<SourceDocument> ReadJsonl(string path)
    {
        foreach (var (number, line) in Lines(path))
        {
            var span = line.Span;
            if (span.Trim(" \t\r"u8).IsEmpty) continue;
            var where = $"{path}:{number}";
            JsonDocument json;
            try { json = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{where}: not valid JSON: {e.Message}", e); }
            using (json)
            {
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{where}: expected a JSON object with a \"text\" string, found {root.ValueKind}");
                if (!root.TryGetProperty("text", out var textElement))
                    throw new InvalidDataException($"{where}: text: missing field");
                if (textElement.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{where}: text: is {textElement.ValueKind}, expected a string");
                var text = String(textElement, where, "text");
                var id = root.TryGetProperty("id", out var idElement)
                    ? idElement.ValueKind switch
                    {
                        JsonValueKind.String => String(idElement, where, "id"),
                        JsonValueKind.Number => idElement.GetRawText(),
                        _ => throw new InvalidDataException($"{where}: id: is {idElement.ValueKind}, expected a string or a number"),
                    }
                    : $"{Path.GetFileName(path)}:{number}";
                yield return new SourceDocument(id, text, where, line.Length + 1);
            }
        }
    }

    private static string String(JsonElement element, string where, string field)
    {
        string value;
        try { value = element.GetString()!; }
        catch (InvalidOperationException e) { throw new InvalidDataException($"{where}: {field}: not valid Unicode (a lone surrogate escape?): {e.Message}", e); }
        if (!IsWellFormed(value)) throw new InvalidDataException($"{where}: {field}: holds a lone surrogate escape (\\uD800-\\uDFFF without its pair)");
        return value;
    }

    private static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) { i++; continue; }
            if (char.IsSurrogate(value[i])) return false;
        }
        return true;
    }

    private IEnumerable<SourceDocument> ReadText(string path)
    {
        var block = new StringBuilder();
        var start = 0;
        long bytes = 0;
        foreach (var (number, line) in Lines(path))
        {
            bytes += line.Length + 1;
            var text = StrictUtf8.GetString(line.Span);
            if (string.IsNullOrWhiteSpace(text))
            {
                if (block.Length > 0) yield return Block();
                continue;
            }
            if (block.Length == 0) start = number;
            else block.Append('\n');
            block.Append(text);
        }
        if (block.Length > 0) yield return Block();

        SourceDocument Block()
        {
            var doc = new SourceDocument($"{Path.GetFileName(path)}:{start}", block.ToString(), $"{path}:{start}", bytes);
            block.Clear();
            bytes = 0;
            return doc;
        }
    }

    /// <summary>The file's lines as UTF-8 bytes (without the LF), each checked: valid UTF-8, no NUL, no BOM, not over the cap.</summary>
    private IEnumerable<(int Number, ReadOnlyMemory<byte> Line)> Lines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        var filled = 0;
        var number = 0;
        try
        {
            var eof = false;
            while (true)
            {
                var newline = buffer.AsSpan(0, filled).IndexOf((byte)'\n');
                if (newline < 0 && !eof)
                {
                    if (filled == buffer.Length)
                    {
                        if (filled >= maxLineBytes)
                            throw new InvalidDataException($"{path}:{number + 1}: line longer than {maxLineBytes} bytes (option MaxLineBytes)");
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxLineBytes + 1));
                        buffer.AsSpan(0, filled).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    var read = stream.Read(buffer, filled, buffer.Length - filled);
                    if (read == 0) eof = true;
                    filled += read;
                    continue;
                }
                var length = newline >= 0 ? newline : filled;
                if (newline < 0 && length == 0) yield break;
                number++;
                if (length > maxLineBytes)
                    throw new InvalidDataException($"{path}:{number}: line longer than {maxLineBytes} bytes (option MaxLineBytes)");
                var line = buffer.AsMemory(0, length);
                if (length > 0 && line.Span[^1] == (byte)'\r') line = line[..^1];
                Check(path, number, line.Span);
                BytesRead += length + (newline >= 0 ? 1 : 0);
                yield return (number, line);
                var consumed = newline >= 0 ? newline + 1 : filled;
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private static void Check(string path, int number, ReadOnlySpan<byte> line)
    {
        if (number == 1 && line.StartsWith("\uFEFF"u8))
            throw new InvalidDataException($"{path}:1: starts with a byte order mark; save the file as UTF-8 without BOM");
        if (!Utf8.IsValid(line))
        {
            var status = Utf8.ToUtf16(line, new char[line.Length], out var valid, out _, replaceInvalidSequences: false);
            throw new InvalidDataException($"{path}:{number}: not valid UTF-8 at byte {valid + 1} of the line ({status}); is the file UTF-16 or Latin-1?");
        }
        var nul = line.IndexOf((byte)0);
        if (nul >= 0) throw new InvalidDataException($"{path}:{number}: NUL byte at byte {nul + 1} of the line; is the file UTF-16?");
    }
}
