using System.Globalization;
using System.Text;

namespace PostTrain.Pretrain.Corpus;

/// <summary>The text a kept document is written with.</summary>
public static class TextNormalizer
{
    /// <summary>
    /// Unicode form <paramref name="form"/>, then whitespace: CR and CRLF become LF; Unicode spaces become ' '; zero-width
    /// spaces, BOMs, soft hyphens and control characters other than LF and tab go; inside a line runs of spaces and tabs
    /// shrink to one space (leading indentation is kept, for code and verse, except the first line's); trailing spaces
    /// go; at most one blank line separates paragraphs; blank lines at both ends go.
    /// </summary>
    /// <exception cref="ArgumentException">The text holds a lone surrogate (no Unicode form exists for it).</exception>
    public static string Normalize(string text, NormalizationForm form)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.IsNormalized(form) ? text : text.Normalize(form);
        var sb = new StringBuilder(s.Length);
        var line = new StringBuilder();
        var blank = false;
        var start = 0;
        while (start <= s.Length)
        {
            var end = s.IndexOfAny(['\r', '\n'], start);
            if (end < 0) end = s.Length;
            CleanLine(s.AsSpan(start, end - start), line);
            if (line.Length == 0) blank = sb.Length > 0;
            else
            {
                if (sb.Length > 0) sb.Append(blank ? "\n\n" : "\n").Append(line);
                else sb.Append(line.ToString().TrimStart());
                blank = false;
            }
            start = end + (end + 1 < s.Length && s[end] == '\r' && s[end + 1] == '\n' ? 2 : 1);
        }
        return sb.ToString();
    }

    private static void CleanLine(ReadOnlySpan<char> raw, StringBuilder line)
    {
        line.Clear();
        var indent = true;
        var pendingSpace = false;
        foreach (var c in raw)
        {
            if (c is '\u200B' or '\uFEFF' or '\u00AD' || (char.IsControl(c) && c != '\t')) continue;
            if (c is ' ' or '\t' || char.GetUnicodeCategory(c) == UnicodeCategory.SpaceSeparator)
            {
                if (indent) line.Append(c == '\t' ? '\t' : ' ');
                else pendingSpace = true;
                continue;
            }
            indent = false;
            if (pendingSpace) { line.Append(' '); pendingSpace = false; }
            line.Append(c);
        }
        if (indent) line.Clear(); // only spaces: a blank line
    }
}
