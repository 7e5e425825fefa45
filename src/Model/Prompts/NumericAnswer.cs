using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// The final numeric answer of a text as an exact fraction in lowest terms ("72", "-7/2"), so "3.5", "7/2",
/// "\frac{7}{2}" and "3.50" are one answer. Where it is read: after the last GSM8K <c>####</c>; else inside the last
/// <c>\boxed{}</c> (MATH), which must then be a number as a whole; else the last number in the text. Thousands
/// separators ("1,234", LaTeX "1{,}234"), dollar signs, percent signs and degree marks are dropped.
/// </summary>
public static partial class NumericAnswer
{
    private const string Number = @"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"; // ASCII digits only: \d also matches other scripts' digits, which BigInteger.Parse refuses

    // A sign counts only where it cannot be an operator between two terms ("3-5" is not -5).
    [GeneratedRegex(@"(?:(?<![\w)\]])[-−])?(?:" + Number + @")(?:\s*/\s*[-−]?(?:" + Number + "))?", RegexOptions.CultureInvariant)]
    private static partial Regex Token();

    [GeneratedRegex(@"^\s*([-−+]?)\s*(" + Number + @")\s*(?:/\s*([-−+]?)\s*(" + Number + @"))?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Whole();

    [GeneratedRegex(@"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}|\\[dt]?frac([0-9])([0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Fraction();

    [GeneratedRegex(@"\\text\s*\{[^{}]*\}|\\mbox\s*\{[^{}]*\}|\^\s*\{?\\circ\}?|\\[!,;:]|\\left|\\right|\\%|[$%]", RegexOptions.CultureInvariant)]
    private static partial Regex Decoration();

    /// <summary>The answer as "p" or "p/q" (q &gt; 1, lowest terms), or null when the text holds no number where one is expected.</summary>
    public static string? Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hashes = text.LastIndexOf("####", StringComparison.Ordinal);
        if (hashes >= 0)
        {
            var first = Token().Match(Clean(text[(hashes + 4)..]));
            return first.Success ? Canonical(first.Value) : null;
        }
        if (LastBoxed(text) is { } boxed)
        {
            var content = Clean(boxed);
            // "x = 5" boxes its value on the right.
            if (content.LastIndexOf('=') is var eq and >= 0) content = content[(eq + 1)..];
            content = content.Trim().Trim('{', '}', '(', ')', ' ');
            return Whole().IsMatch(content) ? Canonical(content) : null;
        }
        var tokens = Token().Matches(Clean(text));
        return tokens.Count > 0 ? Canonical(tokens[^1].Value) : null;
    }

    /// <summary>The content of the last <c>\boxed{…}</c> (or <c>\fbox{…}</c>) with nested braces, or null.</summary>
    public static string? LastBoxed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = Math.Max(text.LastIndexOf(@"\boxed{", StringComparison.Ordinal), text.LastIndexOf(@"\fbox{", StringComparison.Ordinal));
        if (at < 0) return null;
        var open = text.IndexOf('{', at);
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return text[(open + 1)..i];
        }
        return null;
    }

    private static string Clean(string text)
    {
        var s = text.Replace("{,}", ",", StringComparison.Ordinal);
        s = Decoration().Replace(s, "");
        return Fraction().Replace(s, m => m.Groups[1].Success ? $"({m.Groups[1].Value.Trim()})/({m.Groups[2].Value.Trim()})" : $"{m.Groups[3].Value}/{m.Groups[4].Value}")
            .Replace("(", "", StringComparison.Ordinal).Replace(")", "", StringComparison.Ordinal);
    }

    private static string? Canonical(string token)
    {
        var m = Whole().Match(token.Replace('−', '-'));
        if (!m.Success) return null;
        var (n, d) = Parse(m.Groups[1].Value, m.Groups[2].Value);
        if (m.Groups[4].Success)
        {
            var (n2, d2) = Parse(m.Groups[3].Value, m.Groups[4].Value);
            if (n2.IsZero) return null;
            (n, d) = (n * d2, d * n2);
        }
        if (d.Sign < 0) (n, d) = (-n, -d);
        var g = BigInteger.GreatestCommonDivisor(n, d);
        if (!g.IsZero) (n, d) = (n / g, d / g);
        return d.IsOne ? n.ToString(CultureInfo.InvariantCulture) : $"{n.ToString(CultureInfo.InvariantCulture)}/{d.ToString(CultureInfo.InvariantCulture)}";
    }

    private static (BigInteger Numerator, BigInteger Denominator) Parse(string sign, string digits)
    {
        var plain = digits.Replace(",", "", StringComparison.Ordinal);
        var dot = plain.IndexOf('.');
        var scale = dot < 0 ? 0 : plain.Length - dot - 1;
        var n = BigInteger.Parse(dot < 0 ? plain : plain.Remove(dot, 1) is { Length: > 0 } r ? r : "0", CultureInfo.InvariantCulture);
        return (sign == "-" ? -n : n, BigInteger.Pow(10, scale));
    }
}
