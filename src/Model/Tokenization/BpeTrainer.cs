using System.Text;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// Greedy byte-pair merge training over a word-frequency table (Sennrich et al. 2016, as in HF tokenizers'
/// BpeTrainer): each distinct pre-token is stored once with its count, and after a merge only the words that
/// held the merged pair are revisited, so a merge costs O(words touched), not a rescan of the corpus.
/// </summary>
internal static class BpeTrainer
{
    /// <summary>Learned merges in rank order, plus the byte string of every token id (ids 0..255 are the bytes).</summary>
    public sealed record Result(IReadOnlyList<(int A, int B, int Merged)> Merges, IReadOnlyList<byte[]> TokenBytes);

    public static Result Train(IEnumerable<string> texts, int mergedVocabSize, int minFrequency, CancellationToken cancellationToken)
    {
        var wordFreq = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var piece in PreTokenizer.PostTrain.Split(text))
                wordFreq[piece] = wordFreq.GetValueOrDefault(piece) + 1;

        var tokenBytes = new List<byte[]>(mergedVocabSize);
        var byBytes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var b = 0; b < 256; b++)
        {
            tokenBytes.Add([(byte)b]);
            byBytes[ByteLevelAlphabet.ToUnicode([(byte)b])] = b;
        }

        // Ordinal order of the words makes pair discovery order, and so the whole run, independent of hashing.
        var ordered = wordFreq.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        var words = new List<int>[ordered.Length];
        var freqs = new long[ordered.Length];
        var pairCounts = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        for (var w = 0; w < ordered.Length; w++)
        {
            var bytes = Encoding.UTF8.GetBytes(ordered[w].Key);
            words[w] = new List<int>(bytes.Length);
            foreach (var b in bytes) words[w].Add(b);
            freqs[w] = ordered[w].Value;
            AddPairs(words[w], freqs[w], w, +1, pairCounts, where);
        }

        var merges = new List<(int, int, int)>();
        while (tokenBytes.Count < mergedVocabSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long best = -1, bestCount = 0;
            foreach (var (pair, count) in pairCounts)
            {
                // Ties go to the smaller (A, B) so training is reproducible across runs and machines.
                if (count > bestCount || (count == bestCount && count > 0 && pair < best)) { best = pair; bestCount = count; }
            }
            if (best < 0 || bestCount < minFrequency) break;

            int a = (int)(best >> 32), b = (int)(best & 0xFFFFFFFF);
            var mergedBytes = tokenBytes[a].Concat(tokenBytes[b]).ToArray();
            var key = ByteLevelAlphabet.ToUnicode(mergedBytes);
            // Two different pairs can spell the same bytes ("a"+"bc" and "ab"+"c"); they share one id, as in HF.
            if (!byBytes.TryGetValue(key, out var merged))
            {
                merged = tokenBytes.Count;
                tokenBytes.Add(mergedBytes);
                byBytes[key] = merged;
            }
            merges.Add((a, b, merged));

            foreach (var w in where[best].ToArray())
            {
                var symbols = words[w];
                if (!Contains(symbols, a, b)) continue;
                AddPairs(symbols, freqs[w], w, -1, pairCounts, where);
                MergeInPlace(symbols, a, b, merged);
                AddPairs(symbols, freqs[w], w, +1, pairCounts, where);
            }
            pairCounts.Remove(best);
            where.Remove(best);
        }
        return new Result(merges, tokenBytes);
    }

    /// <summary>Left-to-right, non-overlapping: "aaa" with (a,a) becomes [aa, a], the same as encoding does.</summary>
    internal static void MergeInPlace(List<int> symbols, int a, int b, int merged)
    {
        var write = 0;
        for (var read = 0; read < symbols.Count; read++)
        {
            if (read + 1 < symbols.Count && symbols[read] == a && symbols[read + 1] == b)
            {
                symbols[write++] = merged;
                read++;
            }
            else
            {
                symbols[write++] = symbols[read];
            }
        }
        symbols.RemoveRange(write, symbols.Count - write);
    }

    internal static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    private static bool Contains(List<int> symbols, int a, int b)
    {
        for (var i = 0; i + 1 < symbols.Count; i++)
            if (symbols[i] == a && symbols[i + 1] == b) return true;
        return false;
    }

    private static void AddPairs(List<int> symbols, long freq, int word, int sign, Dictionary<long, long> counts, Dictionary<long, HashSet<int>> where)
    {
        for (var i = 0; i + 1 < symbols.Count; i++)
        {
            var key = Key(symbols[i], symbols[i + 1]);
            var next = counts.GetValueOrDefault(key) + sign * freq;
            if (next <= 0) counts.Remove(key); else counts[key] = next;
            if (sign > 0)
            {
                if (!where.TryGetValue(key, out var set)) where[key] = set = [];
                set.Add(word);
            }
        }
    }
}
