using System.Text;

namespace PostTrain.Model.Tests.Tokenization;

/// <summary>Small deterministic text for tokenizer tests: arithmetic chat lines plus mixed-script prose.</summary>
internal static class TestCorpus
{
    private static readonly string[] Syllables =
        ["ka", "to", "ri", "men", "sol", "pre", "ti", "on", "ex", "der", "ful", "ing", "ly", "qua", "zen", "bor", "vic", "al", "um", "es"];

    public static IEnumerable<string> Lines(int count, int seed = 7)
    {
        var rng = new Random(seed);
        string[] words = ["the", "answer", "is", "what", "sum", "of", "and", "list", "sorted", "numbers", "apples", "has", "Tom", "gives", "how", "many", "left", "héllo", "日本語", "テスト", "🙂"];
        for (var i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            sb.Append($"What is {rng.Next(1000)} + {rng.Next(1000)}? ");
            for (var w = 0; w < 8; w++) sb.Append(words[rng.Next(words.Length)]).Append(' ');
            // Pseudo-words from syllables give a long tail of pairs, like real prose.
            for (var w = 0; w < 6; w++)
            {
                for (var k = rng.Next(1, 4); k > 0; k--) sb.Append(Syllables[rng.Next(Syllables.Length)]);
                sb.Append(' ');
            }
            sb.Append('\n');
            yield return sb.ToString();
        }
    }
}
