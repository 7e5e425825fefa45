namespace PostTrain.Pretrain.Data;

/// <summary>
/// The row each micro-batch reads, as a pure function of (seed, phase, position): epochs are seeded permutations,
/// so the data position of a run is just how many rows it has consumed, and a resumed run reads exactly the rows
/// an uninterrupted one would.
/// </summary>
public sealed class DataOrder(long seed, int phase, long rowCount)
{
    private readonly Dictionary<long, int[]> _epochs = [];

    /// <summary>Row indices for micro-batch number <paramref name="microBatch"/> of <paramref name="batchSize"/> rows.</summary>
    public long[] Batch(long microBatch, int batchSize)
    {
        var rows = new long[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            var position = microBatch * batchSize + i;
            rows[i] = Permutation(position / rowCount)[position % rowCount];
        }
        return rows;
    }

    private int[] Permutation(long epoch)
    {
        if (_epochs.TryGetValue(epoch, out var cached)) return cached;
        // System.Random with an explicit seed is a fixed algorithm across runs and machines; HashCode is not.
        var rng = new Random(unchecked((int)(seed * 1_000_003 + phase * 7_919 + epoch * 104_729)));
        var perm = Enumerable.Range(0, (int)rowCount).ToArray();
        rng.Shuffle(perm);
        if (_epochs.Count > 4) _epochs.Clear();
        return _epochs[epoch] = perm;
    }
}
