using System.Text.RegularExpressions;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// Splits text the way the saved tokenizer.json tells Hugging Face to: every ASCII digit isolated (so arithmetic
/// never sees multi-digit tokens, and no merge can touch a digit), then GPT-2's ByteLevel regex on what remains.
/// Encoding and training share this, so merges learned never cross a piece boundary that encoding will cut.
/// </summary>
internal static partial class PreTokenizer
{
    /// <summary>The Split step's pattern as written into tokenizer.json.</summary>
    public const string DigitPattern = "[0-9]";

    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2();

    /// <summary>Pieces in order; their concatenation is exactly <paramref name="text"/>.</summary>
    public static IEnumerable<string> Split(string text)
    {
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && !char.IsAsciiDigit(text[i])) continue;
            if (i > start)
                foreach (Match m in Gpt2().Matches(text.Substring(start, i - start)))
                    yield return m.Value;
            if (i < text.Length) yield return text[i].ToString();
            start = i + 1;
        }
    }
}
