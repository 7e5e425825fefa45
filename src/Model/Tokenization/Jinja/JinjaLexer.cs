using System.Globalization;
using System.Text;

namespace PostTrain.Model.Tokenization.Jinja;

/// <summary>A piece of template source: literal text, an <c>{{ expression }}</c>, or a <c>{% statement %}</c>.</summary>
internal sealed record JinjaChunk(JinjaChunkKind Kind, string Text, int Line);

internal enum JinjaChunkKind { Text, Output, Statement }

/// <summary>One token of an expression.</summary>
internal sealed record JinjaToken(JinjaTokenKind Kind, string Text, object? Value = null);

internal enum JinjaTokenKind { Name, String, Number, Op, End }

/// <summary>
/// Splits template source into chunks with Hugging Face's environment settings: <c>trim_blocks</c> (the newline after
/// a block tag is dropped), <c>lstrip_blocks</c> (spaces before a block tag on its own line are dropped), and the
/// explicit <c>{%-</c>/<c>-%}</c> markers; as Jinja does by default, one trailing newline of the source is dropped.
/// </summary>
internal static class JinjaLexer
{
    public static List<JinjaChunk> Split(string src, string sourceName)
    {
        if (src.EndsWith("\r\n", StringComparison.Ordinal)) src = src[..^2];
        else if (src.EndsWith('\n')) src = src[..^1];
        var chunks = new List<JinjaChunk>();
        var pos = 0;
        while (pos < src.Length)
        {
            var idx = NextTag(src, pos);
            if (idx < 0) { chunks.Add(new JinjaChunk(JinjaChunkKind.Text, src[pos..], Line(src, pos))); break; }
            var text = src[pos..idx];
            var kind = src[idx + 1];
            var marker = idx + 2 < src.Length ? src[idx + 2] : '\0';
            if (marker == '-') text = text.TrimEnd();
            else if (kind != '{' && marker != '+')
            {
                var lineStart = text.LastIndexOf('\n') + 1;
                var lineStarting = lineStart > 0 || pos == 0 || src[pos - 1] == '\n';
                if (lineStarting && text.AsSpan(lineStart).IndexOfAnyExcept(' ', '\t') < 0) text = text[..lineStart];
            }
            if (text.Length > 0) chunks.Add(new JinjaChunk(JinjaChunkKind.Text, text, Line(src, pos)));
            var innerStart = idx + 2 + (marker is '-' or '+' ? 1 : 0);
            var close = kind switch { '{' => "}}", '%' => "%}", _ => "#}" };
            var end = FindClose(src, innerStart, close, kind != '#');
            if (end < 0) throw new JinjaException($"{sourceName}: line {Line(src, idx)}: unclosed '{{{kind}': no matching '{close}'");
            var inner = src[innerStart..end];
            var rightStrip = inner.EndsWith('-');
            if (rightStrip) inner = inner[..^1];
            pos = end + 2;
            if (rightStrip) while (pos < src.Length && char.IsWhiteSpace(src[pos])) pos++;
            else if (kind != '{')
            {
                if (pos < src.Length && src[pos] == '\n') pos++;
                else if (pos + 1 < src.Length && src[pos] == '\r' && src[pos + 1] == '\n') pos += 2;
            }
            if (kind == '#') continue;
            chunks.Add(new JinjaChunk(kind == '{' ? JinjaChunkKind.Output : JinjaChunkKind.Statement, inner.Trim(), Line(src, idx)));
        }
        return chunks;
    }

    private static int NextTag(string src, int from)
    {
        for (var i = src.IndexOf('{', from); i >= 0 && i + 1 < src.Length; i = src.IndexOf('{', i + 1))
            if (src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    /// <summary>The closing delimiter, skipping quoted strings inside expressions and statements.</summary>
    private static int FindClose(string src, int from, string close, bool quotes)
    {
        char quote = '\0';
        for (var i = from; i + 1 < src.Length; i++)
        {
            var c = src[i];
            if (quote != '\0')
            {
                if (c == '\\') i++;
                else if (c == quote) quote = '\0';
                continue;
            }
            if (quotes && c is '\'' or '"') { quote = c; continue; }
            if (c == close[0] && src[i + 1] == close[1]) return i;
        }
        return -1;
    }

    private static int Line(string src, int pos) => 1 + src.AsSpan(0, Math.Min(pos, src.Length)).Count('\n');

    private static readonly string[] Ops = ["**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "~", "+", "-", "*", "/", "%", "<", ">", "="];

    /// <summary>Tokens of one expression or statement body.</summary>
    public static List<JinjaToken> Tokenize(string text, string where)
    {
        var tokens = new List<JinjaToken>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new JinjaToken(JinjaTokenKind.Name, text[start..i]));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '_')) i++;
                var isFloat = i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]);
                if (isFloat) { i++; while (i < text.Length && char.IsAsciiDigit(text[i])) i++; }
                var literal = text[start..i].Replace("_", "");
                tokens.Add(new JinjaToken(JinjaTokenKind.Number, literal,
                    isFloat ? (object)double.Parse(literal, CultureInfo.InvariantCulture) : long.Parse(literal, CultureInfo.InvariantCulture)));
                continue;
            }
            if (c is '\'' or '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new JinjaException($"{where}: unterminated string literal");
                    var d = text[i++];
                    if (d == c) break;
                    if (d != '\\' || i >= text.Length) { sb.Append(d); continue; }
                    var e = text[i++];
                    switch (e)
                    {
                        case 'n': sb.Append('\n'); break;
                        case 't': sb.Append('\t'); break;
                        case 'r': sb.Append('\r'); break;
                        case '\\': sb.Append('\\'); break;
                        case '\'': sb.Append('\''); break;
                        case '"': sb.Append('"'); break;
                        case 'u' when i + 4 <= text.Length:
                            sb.Append((char)int.Parse(text.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; break;
                        default: sb.Append('\\').Append(e); break;
                    }
                }
                tokens.Add(new JinjaToken(JinjaTokenKind.String, sb.ToString(), sb.ToString()));
                continue;
            }
            var op = Ops.FirstOrDefault(o => string.CompareOrdinal(text, i, o, 0, o.Length) == 0);
            if (op is null) throw new JinjaException($"{where}: unexpected character '{c}'");
            tokens.Add(new JinjaToken(JinjaTokenKind.Op, op));
            i += op.Length;
        }
        tokens.Add(new JinjaToken(JinjaTokenKind.End, ""));
        return tokens;
    }
}
