using System.Globalization;

namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// The heuristic quality filters (after Gopher, Rae et al. 2021, app. A.1.1) and the names every removal is counted
/// under in <c>report.json</c>, in the order a document meets them.
/// </summary>
public static class QualityFilters
{
    public const string Length = "length";
    public const string SymbolRatio = "symbol_ratio";
    public const string DigitRatio = "digit_ratio";
    public const string RepeatedLines = "repeated_lines";
    public const string RepeatedNgrams = "repeated_ngrams";
    public const string Language = "language";
    public const string ExactDuplicate = "exact_duplicate";
    public const string NearDuplicate = "near_duplicate";

    public static IReadOnlyList<string> All { get; } =
        [Length, SymbolRatio, DigitRatio, RepeatedLines, RepeatedNgrams, Language, ExactDuplicate, NearDuplicate];

    /// <summary>The first quality filter the document fails, with why; null when it passes them all.</summary>
    public static (string Filter, string Reason)? Check(DocumentFeatures f, CorpusOptions o)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(o);
        var words = f.WordHashes.Count;
        if (words < o.MinWords || words > o.MaxWords)
            return (Length, Invariant($"{words} words, expected {o.MinWords}..{o.MaxWords}"));
        var chars = Math.Max(1, f.NonSpaceChars);
        if ((double)f.Symbols / chars > o.MaxSymbolRatio)
            return (SymbolRatio, Invariant($"{f.Symbols} of {chars} characters are symbols ({(double)f.Symbols / chars:P1}), expected <= {o.MaxSymbolRatio:P1}"));
        if ((double)f.Digits / chars > o.MaxDigitRatio)
            return (DigitRatio, Invariant($"{f.Digits} of {chars} characters are digits ({(double)f.Digits / chars:P1}), expected <= {o.MaxDigitRatio:P1}"));
        if (f.Lines > 0 && (double)f.RepeatedLines / f.Lines > o.MaxRepeatedLineFraction)
            return (RepeatedLines, Invariant($"{f.RepeatedLines} of {f.Lines} lines repeat an earlier line, expected <= {o.MaxRepeatedLineFraction:P0}"));
        if (f.Ngrams > 0 && (double)f.RepeatedNgrams / f.Ngrams > o.MaxRepeatedNgramFraction)
            return (RepeatedNgrams, Invariant($"{f.RepeatedNgrams} of {f.Ngrams} word {o.RepeatedNgramSize}-grams repeat an earlier one, expected <= {o.MaxRepeatedNgramFraction:P0}"));
        if (f.Letters == 0)
            return (Language, "no letters");
        if ((double)f.ExpectedScriptLetters / f.Letters < o.MinScriptFraction)
            return (Language, Invariant($"{f.ExpectedScriptLetters} of {f.Letters} letters are {string.Join("/", o.Scripts)}, expected >= {o.MinScriptFraction:P0}"));
        return null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
