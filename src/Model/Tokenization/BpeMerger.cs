namespace PostTrain.Model.Tokenization;

/// <summary>
/// Applies ranked BPE merges to one word: always the lowest-ranked pair present, leftmost first, as Hugging Face's
/// BPE model does. A priority queue over (rank, position) makes a word of n symbols cost O(n log n), which matters
/// for SentencePiece layouts where a whole line is one word.
/// </summary>
internal sealed class BpeMerger
{
    private readonly Dictionary<long, (int Rank, int Merged)> _ranks = [];

    public BpeMerger(IEnumerable<(int A, int B, int Merged)> merges)
    {
        var r = 0;
        foreach (var (a, b, merged) in merges) _ranks.TryAdd(BpeTrainer.Key(a, b), (r++, merged));
    }

    public int Count => _ranks.Count;

    public int[] Merge(IReadOnlyList<int> symbols)
    {
        var n = symbols.Count;
        if (n < 2) return [.. symbols];
        var ids = symbols.ToArray();
        var prev = new int[n];
        var next = new int[n];
        for (var i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        var queue = new PriorityQueue<int, (int Rank, int Pos)>();
        void Push(int pos)
        {
            if (pos < 0 || next[pos] < 0) return;
            if (_ranks.TryGetValue(BpeTrainer.Key(ids[pos], ids[next[pos]]), out var m)) queue.Enqueue(pos, (m.Rank, pos));
        }
        for (var i = 0; i + 1 < n; i++) Push(i);
        while (queue.TryDequeue(out var pos, out var key))
        {
            var right = next[pos];
            // Stale entries: the left symbol was merged away, or either side changed since this pair was queued.
            if (ids[pos] < 0 || right < 0 || !_ranks.TryGetValue(BpeTrainer.Key(ids[pos], ids[right]), out var m) || m.Rank != key.Rank) continue;
            ids[pos] = m.Merged;
            ids[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            Push(prev[pos]);
            Push(pos);
        }
        var result = new List<int>(n);
        for (var i = 0; i >= 0; i = next[i]) result.Add(ids[i]);
        return [.. result];
    }
}
