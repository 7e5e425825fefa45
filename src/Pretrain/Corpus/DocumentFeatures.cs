using System.Globalization;
using System.Text;

namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// What the quality filters and the near-duplicate signature look at, measured in one pass over a normalised text.
/// Words are maximal runs of letters, digits and combining marks of the NFKC, lower-cased text; in scripts written
/// without spaces (Han, Kana) every character is a word. Words are kept only as 64-bit hashes.
/// </summary>
public sealed class DocumentFeatures
{
    /// <summary>Hash of each word in order.</summary>
    public IReadOnlyList<ulong> WordHashes => _words;
    public int NonSpaceChars { get; private set; }
    public int Digits { get; private set; }
    public int Symbols { get; private set; }
    public int Letters { get; private set; }
    /// <summary>Letters in one of the expected scripts.</summary>
    public int ExpectedScriptLetters { get; private set; }
    public int Lines { get; private set; }
    /// <summary>Non-empty lines equal to an earlier line of the document.</summary>
    public int RepeatedLines { get; private set; }
    public int Ngrams { get; private set; }
    /// <summary>Word n-grams equal to an earlier n-gram of the document.</summary>
    public int RepeatedNgrams { get; private set; }

    private readonly List<ulong> _words = [];

    // Markup and decoration that prose rarely uses; ordinary punctuation (. , ; : ! ? ' " ( ) -) is not a symbol.
    private const string SymbolPunctuation = "#{}[]<>|\\~^*_@=+`$%&";

    public static DocumentFeatures Measure(string text, CorpusOptions options, ISet<string>? expectedScripts = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        var scripts = expectedScripts ?? options.Scripts.ToHashSet(StringComparer.Ordinal);
        var f = new DocumentFeatures();
        foreach (var rune in text.EnumerateRunes())
        {
            var c = rune.Value;
            if (Rune.IsWhiteSpace(rune)) continue;
            f.NonSpaceChars++;
            if (Rune.IsDigit(rune)) f.Digits++;
            else if (Rune.IsLetter(rune))
            {
                f.Letters++;
                if (Scripts.Of(c) is { } script && scripts.Contains(script)) f.ExpectedScriptLetters++;
            }
            else if (c < 128 ? SymbolPunctuation.Contains((char)c, StringComparison.Ordinal)
                     : Rune.GetUnicodeCategory(rune) is UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol
                         or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol or UnicodeCategory.PrivateUse)
                f.Symbols++;
        }
        f.CountLines(text);
        f.SplitWords(text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC));
        f.CountNgrams(options.RepeatedNgramSize);
        return f;
    }

    private void CountLines(string text)
    {
        var seen = new HashSet<ulong>();
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan(range).Trim();
            if (line.IsEmpty) continue;
            Lines++;
            if (!seen.Add(Hashing.Chars(line))) RepeatedLines++;
        }
    }

    private void SplitWords(string text)
    {
        Span<char> lower = stackalloc char[2];
        var h = 0UL;
        var inWord = false;
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            var wordChar = Rune.IsLetterOrDigit(rune) || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (!wordChar || Scripts.IsUnspaced(rune.Value))
            {
                if (inWord) { _words.Add(Hashing.Mix(h)); inWord = false; }
                if (wordChar) _words.Add(Hashing.Mix((ulong)rune.Value));
                continue;
            }
            if (!inWord) { h = 14695981039346656037UL; inWord = true; }
            var n = Rune.ToLowerInvariant(rune).EncodeToUtf16(lower);
            for (var i = 0; i < n; i++) h = (h ^ lower[i]) * 1099511628211UL;
        }
        if (inWord) _words.Add(Hashing.Mix(h));
    }

    private void CountNgrams(int n)
    {
        var words = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_words);
        if (words.Length < n) return;
        var seen = new HashSet<ulong>();
        for (var i = 0; i + n <= words.Length; i++)
        {
            Ngrams++;
            if (!seen.Add(Hashing.Window(words, i, n))) RepeatedNgrams++;
        }
    }
}
