using static TorchSharp.torch;

namespace PostTrain.Sampling;

/// <summary>
/// <see cref="CounterRandom"/>'s Gumbel noise for many streams at once, computed in place in buffers allocated once for
/// (rows, vocabulary): a decode step at 256 rows ran some 25 int64 passes over fresh (rows, V) tensors, and allocating
/// them cost more than the arithmetic. Same 64-bit arithmetic (two's-complement wrap-around), so the noise is
/// bit-identical to <see cref="CounterRandom.Gumbel(ulong, int, Span{float})"/>.
/// </summary>
internal sealed class GumbelNoise : IDisposable
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private readonly long _vocab;
    private readonly Tensor _idGolden;      // (1, V) int64: v · Golden, the per-id part of the counter's hash input
    private readonly Tensor _z, _shifted;   // (S, V) int64: the hash state and its shifted copy
    private readonly Tensor _uniform;       // (S, V) float64
    private readonly Tensor _noise;         // (S, V) float32
    private readonly Dictionary<int, (Tensor Amount, Tensor Mask)> _shifts = [];

    public GumbelNoise(long rows, long vocab, Device device)
    {
        _vocab = vocab;
        _idGolden = (arange(vocab, dtype: ScalarType.Int64, device: device) * unchecked((long)Golden)).unsqueeze(0).DetachFromDisposeScope();
        _z = empty([rows, vocab], ScalarType.Int64, device).DetachFromDisposeScope();
        _shifted = empty([rows, vocab], ScalarType.Int64, device).DetachFromDisposeScope();
        _uniform = empty([rows, vocab], ScalarType.Float64, device).DetachFromDisposeScope();
        _noise = empty([rows, vocab], ScalarType.Float32, device).DetachFromDisposeScope();
        foreach (var bits in new[] { 30, 27, 31, 11 })
            _shifts[bits] = (tensor((long)bits, device: device).DetachFromDisposeScope(), tensor((1L << (64 - bits)) - 1, device: device).DetachFromDisposeScope());
    }

    /// <summary>
    /// Row a: step <paramref name="steps"/>[a] of stream <paramref name="keys"/>[a] (both (A,) int64, A ≤ rows), (A, V) float32.
    /// The result is a view of this object's buffer, overwritten by the next call.
    /// </summary>
    public Tensor Next(Tensor keys, Tensor steps)
    {
        var rows = keys.shape[0];
        var (z, shifted) = (_z.narrow(0, 0, rows), _shifted.narrow(0, 0, rows));
        using (var scope = NewDisposeScope())
        {
            // counter · Golden = (step · V + v) · Golden = step · (V · Golden) + v · Golden, modulo 2⁶⁴.
            var perRow = (steps * unchecked(_vocab * (long)Golden)).add_(keys).unsqueeze(1); // (A, 1)
            z.copy_(_idGolden.expand(rows, _vocab)).add_(perRow);
        }
        XorShift(z, shifted, 30).mul_(unchecked((long)0xBF58476D1CE4E5B9UL));
        XorShift(z, shifted, 27).mul_(unchecked((long)0x94D049BB133111EBUL));
        XorShift(z, shifted, 31);
        LogicalShiftRight(shifted.copy_(z), 11);
        var u = _uniform.narrow(0, 0, rows).copy_(shifted).add_(0.5).mul_(1.0 / (1UL << 53));
        return _noise.narrow(0, 0, rows).copy_(u.log_().neg_().log_().neg_());
    }

    /// <summary>z ^= z ≫ bits (logical), in place.</summary>
    private Tensor XorShift(Tensor z, Tensor shifted, int bits) => z.bitwise_xor_(LogicalShiftRight(shifted.copy_(z), bits));

    /// <summary>torch's shift is arithmetic, so the sign copies are masked off.</summary>
    private Tensor LogicalShiftRight(Tensor t, int bits)
    {
        var (amount, mask) = _shifts[bits];
        return t.bitwise_right_shift_(amount).bitwise_and_(mask);
    }

    public void Dispose()
    {
        foreach (var t in new[] { _idGolden, _z, _shifted, _uniform, _noise }) t.Dispose();
        foreach (var (amount, mask) in _shifts.Values)
        {
            amount.Dispose();
            mask.Dispose();
        }
    }
}
