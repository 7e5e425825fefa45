using PostTrain.Model;
using static TorchSharp.torch;

namespace PostTrain.Trainers;

/// <summary>
/// One forward's worth of token rows: ids, aligned next-token targets (see <see cref="TokenTargets"/>) and, for packed
/// rows, the positions and block-diagonal mask that keep examples apart.
/// </summary>
/// <param name="Ids">(B, T) int64.</param>
/// <param name="Targets">(B, T) int64, <see cref="TokenTargets.IgnoreIndex"/> where no loss is taken.</param>
/// <param name="Positions">(B, T) int64 restarting at 0 per packed example; null = 0..T-1.</param>
/// <param name="AttentionMask">(B, 1, T, T) bool block-diagonal causal; null = plain causal.</param>
public sealed record TokenBatch(Tensor Ids, Tensor Targets, Tensor? Positions, Tensor? AttentionMask) : IDisposable
{
    public long Rows => Ids.shape[0];
    public long Length => Ids.shape[1];

    /// <summary>Logits (B, T, V) of <paramref name="model"/> on this batch.</summary>
    public Tensor Forward(LlamaForCausalLM model) => model.forward(Ids, Positions, AttentionMask);

    /// <summary>
    /// Right-pads each row to the longest. Right padding needs no mask: under the causal mask a real token never sees
    /// the pads after it, and pads are never targets.
    /// </summary>
    public static TokenBatch Pad(IReadOnlyList<(int[] Ids, int[] Targets)> rows, int padId, Device? device = null)
    {
        if (rows.Count == 0) throw new ArgumentException("cannot batch zero rows", nameof(rows));
        var T = rows.Max(r => r.Ids.Length);
        var ids = new long[rows.Count * T];
        var targets = new long[rows.Count * T];
        for (var b = 0; b < rows.Count; b++)
        {
            var (rowIds, rowTargets) = rows[b];
            CheckRow(rowIds, rowTargets, b);
            for (var t = 0; t < T; t++)
            {
                ids[b * T + t] = t < rowIds.Length ? rowIds[t] : padId;
                targets[b * T + t] = t < rowIds.Length ? rowTargets[t] : TokenTargets.IgnoreIndex;
            }
        }
        return new TokenBatch(tensor(ids, [rows.Count, T], device: device), tensor(targets, [rows.Count, T], device: device), null, null);
    }

    /// <summary>
    /// Packs whole examples, in order, into rows of at most <paramref name="blockSize"/> tokens (a row is closed when the next
    /// example does not fit; examples are never split). Each example gets its own segment, so
    /// <see cref="AttentionMasks.Packed"/> stops attention at example boundaries and <see cref="AttentionMasks.PackedPositions"/>
    /// restarts RoPE positions, making the loss equal to the unpacked one.
    /// </summary>
    public static TokenBatch Pack(IReadOnlyList<(int[] Ids, int[] Targets)> examples, int blockSize, int padId, Device? device = null)
    {
        if (examples.Count == 0) throw new ArgumentException("cannot pack zero examples", nameof(examples));
        var packs = PackRows(examples.Select(e => e.Ids.Length).ToArray(), blockSize);
        var T = packs.Max(p => p.Sum(i => examples[i].Ids.Length));
        var B = packs.Count;
        var ids = new long[B * T];
        var targets = new long[B * T];
        var segments = new long[B * T];
        for (var b = 0; b < B; b++)
        {
            var t = 0;
            var segment = 0;
            foreach (var i in packs[b])
            {
                var (exIds, exTargets) = examples[i];
                CheckRow(exIds, exTargets, i);
                for (var j = 0; j < exIds.Length; j++, t++)
                {
                    ids[b * T + t] = exIds[j];
                    targets[b * T + t] = exTargets[j];
                    segments[b * T + t] = segment;
                }
                segment++;
            }
            for (; t < T; t++)
            {
                // The tail pad is a segment of its own: it attends only to itself and is never a target.
                ids[b * T + t] = padId;
                targets[b * T + t] = TokenTargets.IgnoreIndex;
                segments[b * T + t] = segment;
            }
        }
        using var seg = tensor(segments, [B, T], device: device);
        return new TokenBatch(tensor(ids, [B, T], device: device), tensor(targets, [B, T], device: device),
            AttentionMasks.PackedPositions(seg).DetachFromDisposeScope(), AttentionMasks.Packed(seg).DetachFromDisposeScope());
    }

    /// <summary>Greedy in-order packing: indices of the examples in each row.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> PackRows(IReadOnlyList<int> lengths, int blockSize)
    {
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "block size must be >= 1");
        var rows = new List<IReadOnlyList<int>>();
        var current = new List<int>();
        var used = 0;
        for (var i = 0; i < lengths.Count; i++)
        {
            if (lengths[i] > blockSize)
                throw new ArgumentException($"example {i} has {lengths[i]} tokens, longer than the packing block size {blockSize}; truncate it or raise the block size");
            if (used + lengths[i] > blockSize && current.Count > 0)
            {
                rows.Add(current);
                current = [];
                used = 0;
            }
            current.Add(i);
            used += lengths[i];
        }
        if (current.Count > 0) rows.Add(current);
        return rows;
    }

    private static void CheckRow(int[] ids, int[] targets, int index)
    {
        if (ids.Length == 0) throw new ArgumentException($"row {index} is empty, expected at least one token");
        if (ids.Length != targets.Length)
            throw new ArgumentException($"row {index} has {ids.Length} ids but {targets.Length} targets, expected equal lengths");
    }

    public void Dispose()
    {
        Ids.Dispose();
        Targets.Dispose();
        Positions?.Dispose();
        AttentionMask?.Dispose();
    }
}
