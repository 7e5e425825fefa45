using System.Text;

namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// Seeded prose-like text for measuring the deduplicator: a vocabulary of pseudo-words drawn with Zipf's law (as in
/// natural text, a few words are very common, so unrelated documents share common words but almost no 5-word
/// shingles), sentences and paragraphs, and near copies with a given share of words substituted, deleted or inserted.
/// The tests and <c>bench/</c> use it; it is not training data.
/// </summary>
public sealed class SyntheticText
{
    private readonly Random _random;
    private readonly string[] _words;
    private readonly double[] _cumulative;

    public SyntheticText(int seed, int vocabulary = 20_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabulary, 2);
        _random = new Random(seed);
        _words = new string[vocabulary];
        var taken = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < vocabulary; i++)
        {
            string word;
            do word = string.Create(2 + _random.Next(9), _random, (span, r) => { for (var k = 0; k < span.Length; k++) span[k] = (char)('a' + r.Next(26)); });
            while (!taken.Add(word));
            _words[i] = word;
        }
        _cumulative = new double[vocabulary];
        var sum = 0.0;
        for (var i = 0; i < vocabulary; i++) _cumulative[i] = sum += 1.0 / (i + 1);
        for (var i = 0; i < vocabulary; i++) _cumulative[i] /= sum;
    }

    public string Word()
    {
        var i = Array.BinarySearch(_cumulative, _random.NextDouble());
        return _words[Math.Min(i < 0 ? ~i : i, _words.Length - 1)];
    }

    /// <summary>A document of about <paramref name="words"/> words: sentences of 6–18 words, paragraphs of 3–6 sentences.</summary>
    public string Document(int words)
    {
        var sb = new StringBuilder(words * 7);
        var written = 0;
        while (written < words)
        {
            if (sb.Length > 0) sb.Append("\n\n");
            for (var s = 3 + _random.Next(4); s > 0 && written < words; s--)
            {
                if (sb.Length > 0 && sb[^1] != '\n') sb.Append(' ');
                var length = 6 + _random.Next(13);
                for (var w = 0; w < length; w++, written++)
                {
                    var word = Word();
                    if (w == 0) sb.Append(char.ToUpperInvariant(word[0])).Append(word, 1, word.Length - 1);
                    else sb.Append(' ').Append(word);
                }
                sb.Append(_random.Next(8) == 0 ? ',' : '.');
            }
        }
        return sb.ToString();
    }

    /// <summary><paramref name="text"/> with each word, with probability <paramref name="rate"/>, replaced, deleted or
    /// followed by an inserted word (a third each).</summary>
    public string Edit(string text, double rate)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = text.Split(' ');
        var sb = new StringBuilder(text.Length + 16);
        foreach (var token in tokens)
        {
            var t = token;
            if (_random.NextDouble() < rate)
                switch (_random.Next(3))
                {
                    case 0: t = Word(); break;
                    case 1: continue;
                    default: t = token + " " + Word(); break;
                }
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(t);
        }
        return sb.ToString();
    }
}
