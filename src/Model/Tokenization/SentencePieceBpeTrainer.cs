using System.Globalization;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// Trains a SentencePiece-compatible BPE vocabulary (Kudo &amp; Richardson 2018; the tokenizer of Llama 2 and
/// baichuan-7B): each line is a sentence, spaces become "▁" and one is prefixed (add_dummy_prefix), words start at each
/// "▁", digits are words of their own (split_digits), and the most frequent adjacent pair inside a word is merged until
/// the vocabulary is full. Characters below the coverage have no piece and are spelled with byte pieces at encoding
/// (byte_fallback). Pieces: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte pieces, the merges (score −rank, so
/// SentencePiece's encoder applies them in the order learned), then the characters. Scripts are not split apart.
/// </summary>
public static class SentencePieceBpeTrainer
{
    /// <summary>Pieces every model has: 3 specials and 256 bytes.</summary>
    public const int FixedPieces = 3 + 256;
    public const string Space = "\u2581";

    public static IReadOnlyList<SentencePieceEntry> Train(IEnumerable<string> texts, SentencePieceBpeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var line in text.Split('\n'))
                foreach (var word in Words(line.TrimEnd('\r'), options.SplitDigits))
                    wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
        if (wordCounts.Count == 0) throw new ArgumentException("no text to train the tokenizer on", nameof(texts));

        // Characters by frequency until the coverage is reached (ordinal order breaks ties, so runs repeat exactly).
        var charCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (word, count) in wordCounts)
            foreach (var c in Characters(word)) charCounts[c] = charCounts.GetValueOrDefault(c) + count;
        var total = (double)charCounts.Values.Sum();
        var room = options.VocabSize - FixedPieces;
        var chars = new List<string>();
        long covered = 0;
        foreach (var (c, n) in charCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (chars.Count >= room || (chars.Count > 0 && covered / total >= options.CharacterCoverage)) break;
            chars.Add(c);
            covered += n;
        }
        var symbols = new List<string>(chars);
        var lengths = chars.Select(_ => 1).ToList();
        var charId = chars.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);

        var ordered = wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        var words = ordered.Select(kv => Characters(kv.Key).Select(c => charId.GetValueOrDefault(c, -1)).ToList()).ToArray();
        var counts = ordered.Select(kv => kv.Value).ToArray();
        var pairs = new Dictionary<(int, int), long>();
        var where = new Dictionary<(int, int), HashSet<int>>();
        for (var w = 0; w < words.Length; w++) Count(words[w], counts[w], w, +1, pairs, where);

        var merges = new List<string>();
        while (symbols.Count < room)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (int A, int B) best = (-1, -1);
            long bestCount = 0;
            string? bestText = null;
            foreach (var (pair, count) in pairs)
            {
                if (count < options.MinPairCount || count < bestCount || lengths[pair.Item1] + lengths[pair.Item2] > options.MaxPieceLength) continue;
                var text = symbols[pair.Item1] + symbols[pair.Item2];
                if (count > bestCount || string.CompareOrdinal(text, bestText) < 0) (best, bestCount, bestText) = (pair, count, text);
            }
            if (bestText is null) break;
            var merged = symbols.Count;
            symbols.Add(bestText);
            lengths.Add(lengths[best.A] + lengths[best.B]);
            merges.Add(bestText);
            foreach (var w in where[best].ToArray())
            {
                Count(words[w], counts[w], w, -1, pairs, where);
                var word = words[w];
                for (var i = 0; i + 1 < word.Count; i++)
                    if (word[i] == best.A && word[i + 1] == best.B) { word[i] = merged; word.RemoveAt(i + 1); }
                Count(word, counts[w], w, +1, pairs, where);
            }
        }

        var pieces = new List<SentencePieceEntry>(FixedPieces + symbols.Count)
        {
            new("<unk>", 0, SentencePieceEntry.Unknown), new("<s>", 0, SentencePieceEntry.Control), new("</s>", 0, SentencePieceEntry.Control),
        };
        for (var b = 0; b < 256; b++) pieces.Add(new(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"), 0, SentencePieceEntry.Byte));
        var rank = 0;
        foreach (var m in merges) pieces.Add(new(m, -rank++, SentencePieceEntry.Normal));
        foreach (var c in chars) pieces.Add(new(c, -rank++, SentencePieceEntry.Normal));
        return pieces;
    }

    /// <summary>A line as SentencePiece's trainer splits it: "▁" + the line with spaces as "▁", cut before each "▁"
    /// and, with <paramref name="splitDigits"/>, around each digit.</summary>
    public static IEnumerable<string> Words(string line, bool splitDigits)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length == 0) yield break;
        var current = new System.Text.StringBuilder();
        var previousDigit = false;
        foreach (var c in Characters(Space + line.Replace(" ", Space, StringComparison.Ordinal)))
        {
            var digit = splitDigits && c.Length == 1 && char.IsDigit(c[0]);
            if (current.Length > 0 && (c == Space || digit || previousDigit)) { yield return current.ToString(); current.Clear(); }
            current.Append(c);
            previousDigit = digit;
        }
        if (current.Length > 0) yield return current.ToString();
    }

    private static IEnumerable<string> Characters(string text)
    {
        // Code points, not grapheme clusters: SentencePiece's characters are Unicode scalar values.
        foreach (var rune in text.EnumerateRunes()) yield return rune.ToString();
    }

    private static void Count(List<int> word, long count, int w, int sign, Dictionary<(int, int), long> pairs, Dictionary<(int, int), HashSet<int>> where)
    {
        for (var i = 0; i + 1 < word.Count; i++)
        {
            if (word[i] < 0 || word[i + 1] < 0) continue; // an uncovered character never merges
            var pair = (word[i], word[i + 1]);
            pairs[pair] = pairs.GetValueOrDefault(pair) + sign * count;
            if (sign > 0) (where.TryGetValue(pair, out var set) ? set : where[pair] = []).Add(w);
            else if (pairs[pair] <= 0) { pairs.Remove(pair); where.Remove(pair); }
        }
    }
}
