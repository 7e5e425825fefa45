using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using PostTrain.Model.Inference;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Sampling;

/// <summary>
/// The sampled token of each row by inverse CDF: the first id whose cumulative probability under softmax(row) exceeds one
/// counter-based uniform, <see cref="CounterRandom.Uniform"/>(stream key, step). One uniform per row and step instead of
/// Gumbel noise for every vocabulary id (the noise was some 15-20% of a small decode step; bench profile.decode): the
/// same distribution, and still a pure function of (stream, step), so continuous batching equals static batching.
/// On the CPU the rows run as a C# loop over the logits' memory; elsewhere as softmax, cumsum and searchsorted on the device.
/// </summary>
internal static unsafe class InverseCdf
{
    [ThreadStatic] private static float[]? t_row;

    /// <summary>
    /// Tokens (A,) int64 for <paramref name="scaled"/> (A, V) (logits ÷ temperature, filtered ids at −∞): row a draws step
    /// <paramref name="steps"/>[a] of stream <paramref name="keys"/>[a].
    /// </summary>
    public static Tensor Choose(Tensor scaled, ReadOnlySpan<ulong> keys, ReadOnlySpan<int> steps, bool onHost = true)
    {
        var (rows, vocab) = ((int)scaled.shape[0], (int)scaled.shape[1]);
        var uniforms = new double[rows];
        for (var a = 0; a < rows; a++) uniforms[a] = CounterRandom.Uniform(keys[a], (ulong)steps[a]);
        if (onHost && OnHost(scaled))
        {
            using var logits = scaled.contiguous();
            var tokens = empty(rows, ScalarType.Int64);
            var x = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(logits.bytes));
            var ids = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tokens.bytes));
            for (var a = 0; a < rows; a++) ids[a] = Row(x + (long)a * vocab, vocab, uniforms[a], out _, out _);
            return tokens;
        }
        using var scope = NewDisposeScope();
        var cdf = F.softmax(scaled, -1).cumsum(-1);                                              // (A, V)
        var u = tensor(uniforms, device: scaled.device).to_type(cdf.dtype).unsqueeze(1);         // (A, 1)
        return searchsorted(cdf, u * cdf.narrow(1, vocab - 1, 1), right: true).squeeze(1).clamp_max_(vocab - 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="Choose"/> at temperature 1 with no filter, on CPU float32 logits (A, V), and with each chosen token's
    /// log-probability (x[token] − max − log Σ e^(x − max), from the same pass): the sampler's decode loop then makes no
    /// libtorch call over the whole vocabulary, whose OpenMP workers would go on spinning on the cores the next step wants.
    /// </summary>
    /// <param name="greedy">Take each row's most likely id (the first of equals, as argmax) instead of a sample.</param>
    public static (Tensor Tokens, Tensor LogProbs) ChooseWithLogProbs(Tensor logits, ReadOnlySpan<ulong> keys, ReadOnlySpan<int> steps, bool greedy = false)
    {
        var (rows, vocab) = ((int)logits.shape[0], (int)logits.shape[1]);
        if (!OnHost(logits) || !logits.is_contiguous()) throw new ArgumentException("ChooseWithLogProbs needs contiguous float32 logits on a CPU with AVX2 and FMA");
        var tokens = empty(rows, ScalarType.Int64);
        var logProbs = empty(rows, ScalarType.Float32);
        var x = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(logits.bytes));
        var ids = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tokens.bytes));
        var lp = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(logProbs.bytes));
        for (var a = 0; a < rows; a++) ids[a] = ChooseRow(new ReadOnlySpan<float>(x + (long)a * vocab, vocab), keys[a], steps[a], greedy, out lp[a]);
        return (tokens, logProbs);
    }

    /// <summary>One row of <see cref="ChooseWithLogProbs"/>: the token for <paramref name="logits"/> (V) at step
    /// <paramref name="step"/> of stream <paramref name="key"/>, and its log-probability. Safe on several threads at once.</summary>
    public static long ChooseRow(ReadOnlySpan<float> logits, ulong key, int step, bool greedy, out float logProb)
    {
        fixed (float* row = logits)
        {
            var id = Row(row, logits.Length, greedy ? null : CounterRandom.Uniform(key, (ulong)step), out var max, out var sum);
            logProb = (float)(row[id] - max - Math.Log(sum));
            return id;
        }
    }

    /// <summary>True when the token choice can run as a C# loop over <paramref name="logits"/>' memory.</summary>
    public static bool OnHost(Tensor logits) =>
        logits.device_type == TorchSharp.DeviceType.CPU && logits.dtype == ScalarType.Float32 && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// The first id whose running sum of e^(x − max) exceeds <paramref name="u"/> × the total (the last id with mass if
    /// rounding runs out); without <paramref name="u"/>, the first id of the largest logit, as argmax. Also the row's max
    /// and Σ e^(x − max), for the chosen id's log-probability.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Row(float* x, int vocab, double? u, out float max, out float total)
    {
        if (t_row is null || t_row.Length < vocab) t_row = new float[vocab];
        fixed (float* p = t_row)
        {
            new ReadOnlySpan<float>(x, vocab).CopyTo(new Span<float>(p, vocab));
            total = CpuForward.SoftmaxNumerators(p, vocab, out max);
            if (u is not { } draw)
            {
                for (var v = 0; v < vocab; v++)
                    if (x[v] == max) return v;
                return 0; // NaN logits: argmax's answer is undefined too
            }
            var target = draw * total;
            var (sum, last) = (0.0, 0L);
            for (var v = 0; v < vocab; v++)
            {
                if (float.IsNegativeInfinity(x[v])) continue; // a filtered id (its clamped e^x is some 1e-38, not 0)
                sum += p[v];
                last = v;
                if (sum > target) return v;
            }
            return last;
        }
    }
}
