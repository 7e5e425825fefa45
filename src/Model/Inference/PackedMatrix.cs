using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace PostTrain.Model.Inference;

/// <summary>
/// A linear layer's weight W (out, in), packed once for y = x·Wᵀ (+ b) on the CPU: the columns of Wᵀ in panels of 16 (32
/// where the CPU has 512-bit vectors), each panel's values of one input contiguous, so the 6-row micro-kernel streams one
/// panel from L1/L2 while it keeps twelve vector sums in registers and broadcasts six rows' inputs. Every output element is
/// the same chain of fused multiply-adds in input order (bias first) in both widths, so the two give identical bits.
/// Why not libtorch's addmm: at a decode step's shapes (a few hundred rows, 128–1376 inputs) it ran at about a quarter of
/// this machine's GEMM ceiling (bench profile.decode: the small preset's GEMMs alone took 7.8 ms for 256 rows, 52 GFLOP/s),
/// and every call enters OpenMP, whose idle workers then spin on the cores the row loops want. Here a decode step can run
/// all of its work for a range of rows on one thread, so rows split across threads with no barrier between ops.
/// </summary>
public sealed unsafe class PackedMatrix : IDisposable
{
    private const int Narrow = 16, Wide = 32, BlockRows = 6;
    private int Panel { get; } // Narrow or Wide columns
    private float* _data; // (panels, In, Panel); columns past Out are zero
    private float* _bias; // (panels · Panel) or null

    public int In { get; }
    public int Out { get; }

    /// <summary>True where the runtime accelerates 512-bit vectors: the kernels here and CpuForward's then use them.</summary>
    internal static bool Accelerated512 { get; } = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>Column panels: <see cref="Multiply"/> can compute a range of them, so threads can split one product by columns.</summary>
    public int Panels => (Out + Panel - 1) / Panel;

    /// <summary>Packs the rows of <paramref name="weights"/> (each (out_i, in) float32 on the CPU, one input width) as one matrix, outputs in order.</summary>
    /// <param name="wide">32-column panels and 512-bit sums; default where the runtime accelerates 512-bit vectors (tests force each).</param>
    public PackedMatrix(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor?>? biases = null, bool? wide = null)
    {
        In = (int)weights[0].shape[1];
        if (weights.FirstOrDefault(w => w.shape[1] != In) is { } other)
            throw new ArgumentException($"packed weights need one input width: {other.shape[1]} against {In}", nameof(weights));
        if (wide == true && !Avx512F.IsSupported) throw new PlatformNotSupportedException("512-bit panels need AVX-512F");
        Panel = wide ?? Accelerated512 ? Wide : Narrow;
        Out = weights.Sum(w => (int)w.shape[0]);
        var panels = (Out + Panel - 1) / Panel;
        var bytes = (nuint)((long)panels * In * Panel * sizeof(float));
        _data = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_data, bytes);
        var column = 0;
        foreach (var weight in weights)
        {
            using var w = weight.detach().contiguous();
            var src = MemoryMarshal.Cast<byte, float>(w.bytes);
            for (var o = 0; o < w.shape[0]; o++, column++)
            {
                var panel = _data + (long)(column / Panel) * In * Panel + column % Panel;
                var row = src.Slice(o * In, In);
                for (var k = 0; k < In; k++) panel[(long)k * Panel] = row[k];
            }
        }
        if (biases is not null && biases.Any(b => b is not null))
        {
            _bias = (float*)NativeMemory.AlignedAlloc((nuint)(panels * Panel * sizeof(float)), 64);
            NativeMemory.Clear(_bias, (nuint)(panels * Panel * sizeof(float)));
            column = 0;
            for (var i = 0; i < weights.Count; i++)
            {
                var n = (int)weights[i].shape[0];
                if (biases[i] is { } b)
                {
                    using var c = b.detach().contiguous();
                    MemoryMarshal.Cast<byte, float>(c.bytes).CopyTo(new Span<float>(_bias + column, n));
                }
                column += n;
            }
        }
    }

    public PackedMatrix(Tensor weight, Tensor? bias) : this([weight], [bias]) { }

    /// <summary>y[r] ← x[r] · Wᵀ (+ b) for rows <paramref name="start"/>..<paramref name="end"/>; rows of x are <paramref name="ldx"/> floats apart, of y <paramref name="ldy"/>.
    /// Only the columns of panels <paramref name="firstPanel"/>..<paramref name="endPanel"/> − 1 when given (each element the same sums either way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Multiply(float* x, long ldx, float* y, long ldy, int start, int end, int firstPanel = 0, int endPanel = int.MaxValue)
    {
        var panels = Math.Min(Panels, endPanel);
        var tile = stackalloc float[BlockRows * Wide]; // a partial last panel's rows, before the live columns are copied out
        for (var p = firstPanel; p < panels; p++)
        {
            var b = _data + (long)p * In * Panel;
            var bias = _bias == null ? null : _bias + p * Panel;
            var cols = Math.Min(Panel, Out - p * Panel);
            var r = start;
            // A partial last panel's rows go to the tile first, then only its live columns out.
            var partial = cols < Panel;
            var ld = partial ? Panel : ldy;
            for (; r + BlockRows <= end; r += BlockRows)
            {
                var yr = y + r * ldy + p * Panel;
                if (Panel == Wide) Kernel6Wide(x + r * ldx, ldx, b, In, bias, partial ? tile : yr, ld);
                else Kernel6(x + r * ldx, ldx, b, In, bias, partial ? tile : yr, ld);
                if (partial) CopyOut(tile, BlockRows, cols, yr, ldy);
            }
            // Rows past the blocks two at a time where the registers allow (32 in 512-bit code): one read of the panel
            // for both. A row's sums are those of the one-row kernel either way.
            for (; Panel == Wide && r + 2 <= end; r += 2)
            {
                var yr = y + r * ldy + p * Panel;
                Kernel2Wide(x + r * ldx, ldx, b, In, bias, partial ? tile : yr, ld);
                if (partial) CopyOut(tile, 2, cols, yr, ldy);
            }
            for (; r < end; r++)
            {
                var yr = y + r * ldy + p * Panel;
                if (Panel == Wide) Kernel1Wide(x + r * ldx, b, In, bias, partial ? tile : yr);
                else Kernel1(x + r * ldx, b, In, bias, partial ? tile : yr);
                if (partial) CopyOut(tile, 1, cols, yr, ldy);
            }
        }
    }

    /// <summary>The first <paramref name="cols"/> columns of <paramref name="rows"/> tile rows (a panel wide) into y's rows.</summary>
    private void CopyOut(float* tile, int rows, int cols, float* y, long ldy)
    {
        for (var i = 0; i < rows; i++) new ReadOnlySpan<float>(tile + i * Panel, cols).CopyTo(new Span<float>(y + i * ldy, cols));
    }

    /// <summary>
    /// Six rows × one panel: twelve sums in registers, two panel loads and six broadcasts per input. Unrolled by hand: each
    /// sum has to be its own local for the JIT to keep it in a register across the loop (an array of sums lives in memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel6(float* a, long lda, float* b, int k, float* bias, float* c, long ldc)
    {
        Vector256<float> s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51;
        if (bias != null)
        {
            s00 = s10 = s20 = s30 = s40 = s50 = Vector256.Load(bias);
            s01 = s11 = s21 = s31 = s41 = s51 = Vector256.Load(bias + 8);
        }
        else s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = s40 = s41 = s50 = s51 = Vector256<float>.Zero;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (var i = 0; i < k; i++, b += Narrow)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a0[i]);
            s00 = Fma.MultiplyAdd(x, b0, s00);
            s01 = Fma.MultiplyAdd(x, b1, s01);
            x = Vector256.Create(a1[i]);
            s10 = Fma.MultiplyAdd(x, b0, s10);
            s11 = Fma.MultiplyAdd(x, b1, s11);
            x = Vector256.Create(a2[i]);
            s20 = Fma.MultiplyAdd(x, b0, s20);
            s21 = Fma.MultiplyAdd(x, b1, s21);
            x = Vector256.Create(a3[i]);
            s30 = Fma.MultiplyAdd(x, b0, s30);
            s31 = Fma.MultiplyAdd(x, b1, s31);
            x = Vector256.Create(a4[i]);
            s40 = Fma.MultiplyAdd(x, b0, s40);
            s41 = Fma.MultiplyAdd(x, b1, s41);
            x = Vector256.Create(a5[i]);
            s50 = Fma.MultiplyAdd(x, b0, s50);
            s51 = Fma.MultiplyAdd(x, b1, s51);
        }
        s00.Store(c);
        s01.Store(c + 8);
        s10.Store(c + ldc);
        s11.Store(c + ldc + 8);
        s20.Store(c + 2 * ldc);
        s21.Store(c + 2 * ldc + 8);
        s30.Store(c + 3 * ldc);
        s31.Store(c + 3 * ldc + 8);
        s40.Store(c + 4 * ldc);
        s41.Store(c + 4 * ldc + 8);
        s50.Store(c + 5 * ldc);
        s51.Store(c + 5 * ldc + 8);
    }

    /// <summary>
    /// As <see cref="Kernel6"/> on a 32-column panel with 512-bit sums (the same chain per element, so the same bits). Written
    /// out a second time: .NET 10 has no public generic vector arithmetic (ISimdVector is internal) that would keep both
    /// widths in registers from one body.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel6Wide(float* a, long lda, float* b, int k, float* bias, float* c, long ldc)
    {
        Vector512<float> s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51;
        if (bias != null)
        {
            s00 = s10 = s20 = s30 = s40 = s50 = Vector512.Load(bias);
            s01 = s11 = s21 = s31 = s41 = s51 = Vector512.Load(bias + 16);
        }
        else s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = s40 = s41 = s50 = s51 = Vector512<float>.Zero;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (var i = 0; i < k; i++, b += Wide)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a0[i]);
            s00 = Avx512F.FusedMultiplyAdd(x, b0, s00);
            s01 = Avx512F.FusedMultiplyAdd(x, b1, s01);
            x = Vector512.Create(a1[i]);
            s10 = Avx512F.FusedMultiplyAdd(x, b0, s10);
            s11 = Avx512F.FusedMultiplyAdd(x, b1, s11);
            x = Vector512.Create(a2[i]);
            s20 = Avx512F.FusedMultiplyAdd(x, b0, s20);
            s21 = Avx512F.FusedMultiplyAdd(x, b1, s21);
            x = Vector512.Create(a3[i]);
            s30 = Avx512F.FusedMultiplyAdd(x, b0, s30);
            s31 = Avx512F.FusedMultiplyAdd(x, b1, s31);
            x = Vector512.Create(a4[i]);
            s40 = Avx512F.FusedMultiplyAdd(x, b0, s40);
            s41 = Avx512F.FusedMultiplyAdd(x, b1, s41);
            x = Vector512.Create(a5[i]);
            s50 = Avx512F.FusedMultiplyAdd(x, b0, s50);
            s51 = Avx512F.FusedMultiplyAdd(x, b1, s51);
        }
        s00.Store(c);
        s01.Store(c + 16);
        s10.Store(c + ldc);
        s11.Store(c + ldc + 16);
        s20.Store(c + 2 * ldc);
        s21.Store(c + 2 * ldc + 16);
        s30.Store(c + 3 * ldc);
        s31.Store(c + 3 * ldc + 16);
        s40.Store(c + 4 * ldc);
        s41.Store(c + 4 * ldc + 16);
        s50.Store(c + 5 * ldc);
        s51.Store(c + 5 * ldc + 16);
    }

    /// <summary>One row × a 16-column panel (a batch's last rows, or one sequence): four inputs at a time in separate sums, so the FMAs do not wait on each other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel1(float* a, float* b, int k, float* bias, float* c)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, t0 = s0, t1 = s0, u0 = s0, u1 = s0, v0 = s0, v1 = s0;
        var i = 0;
        for (; i + 4 <= k; i += 4, b += 4 * Narrow)
        {
            var x = Vector256.Create(a[i]);
            s0 = Fma.MultiplyAdd(x, Vector256.Load(b), s0);
            s1 = Fma.MultiplyAdd(x, Vector256.Load(b + 8), s1);
            x = Vector256.Create(a[i + 1]);
            t0 = Fma.MultiplyAdd(x, Vector256.Load(b + Narrow), t0);
            t1 = Fma.MultiplyAdd(x, Vector256.Load(b + Narrow + 8), t1);
            x = Vector256.Create(a[i + 2]);
            u0 = Fma.MultiplyAdd(x, Vector256.Load(b + 2 * Narrow), u0);
            u1 = Fma.MultiplyAdd(x, Vector256.Load(b + 2 * Narrow + 8), u1);
            x = Vector256.Create(a[i + 3]);
            v0 = Fma.MultiplyAdd(x, Vector256.Load(b + 3 * Narrow), v0);
            v1 = Fma.MultiplyAdd(x, Vector256.Load(b + 3 * Narrow + 8), v1);
        }
        for (; i < k; i++, b += Narrow)
        {
            var x = Vector256.Create(a[i]);
            s0 = Fma.MultiplyAdd(x, Vector256.Load(b), s0);
            s1 = Fma.MultiplyAdd(x, Vector256.Load(b + 8), s1);
        }
        s0 = s0 + t0 + (u0 + v0);
        s1 = s1 + t1 + (u1 + v1);
        if (bias != null)
        {
            s0 += Vector256.Load(bias);
            s1 += Vector256.Load(bias + 8);
        }
        s0.Store(c);
        s1.Store(c + 8);
    }

    /// <summary>
    /// As <see cref="Kernel1"/> on a whole 32-column panel with 512-bit sums (the same chain per element, so the same bits).
    /// One pass over the panel reads it front to back: two 16-column passes read every other 64 bytes each, and a
    /// one-row product, which only streams weights, ran at about 30 GB/s that way against 75 on 16-column panels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel1Wide(float* a, float* b, int k, float* bias, float* c)
    {
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, t0 = s0, t1 = s0, u0 = s0, u1 = s0, v0 = s0, v1 = s0;
        var i = 0;
        for (; i + 4 <= k; i += 4, b += 4 * Wide)
        {
            var x = Vector512.Create(a[i]);
            s0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b), s0);
            s1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 16), s1);
            x = Vector512.Create(a[i + 1]);
            t0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + Wide), t0);
            t1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + Wide + 16), t1);
            x = Vector512.Create(a[i + 2]);
            u0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 2 * Wide), u0);
            u1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 2 * Wide + 16), u1);
            x = Vector512.Create(a[i + 3]);
            v0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 3 * Wide), v0);
            v1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 3 * Wide + 16), v1);
        }
        for (; i < k; i++, b += Wide)
        {
            var x = Vector512.Create(a[i]);
            s0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b), s0);
            s1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 16), s1);
        }
        s0 = s0 + t0 + (u0 + v0);
        s1 = s1 + t1 + (u1 + v1);
        if (bias != null)
        {
            s0 += Vector512.Load(bias);
            s1 += Vector512.Load(bias + 16);
        }
        s0.Store(c);
        s1.Store(c + 16);
    }

    /// <summary>
    /// Two rows through <see cref="Kernel1Wide"/>'s sums (four chains per column and row, combined and biased the same
    /// way, so the same bits), the panel read once for both: sixteen sums, two loads and a broadcast fit the 32 registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel2Wide(float* a, long lda, float* b, int k, float* bias, float* c, long ldc)
    {
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, t0 = s0, t1 = s0, u0 = s0, u1 = s0, v0 = s0, v1 = s0;
        Vector512<float> S0 = s0, S1 = s0, T0 = s0, T1 = s0, U0 = s0, U1 = s0, V0 = s0, V1 = s0;
        float* a0 = a, a1 = a + lda;
        var i = 0;
        for (; i + 4 <= k; i += 4, b += 4 * Wide)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a0[i]);
            s0 = Avx512F.FusedMultiplyAdd(x, b0, s0);
            s1 = Avx512F.FusedMultiplyAdd(x, b1, s1);
            x = Vector512.Create(a1[i]);
            S0 = Avx512F.FusedMultiplyAdd(x, b0, S0);
            S1 = Avx512F.FusedMultiplyAdd(x, b1, S1);
            b0 = Vector512.Load(b + Wide);
            b1 = Vector512.Load(b + Wide + 16);
            x = Vector512.Create(a0[i + 1]);
            t0 = Avx512F.FusedMultiplyAdd(x, b0, t0);
            t1 = Avx512F.FusedMultiplyAdd(x, b1, t1);
            x = Vector512.Create(a1[i + 1]);
            T0 = Avx512F.FusedMultiplyAdd(x, b0, T0);
            T1 = Avx512F.FusedMultiplyAdd(x, b1, T1);
            b0 = Vector512.Load(b + 2 * Wide);
            b1 = Vector512.Load(b + 2 * Wide + 16);
            x = Vector512.Create(a0[i + 2]);
            u0 = Avx512F.FusedMultiplyAdd(x, b0, u0);
            u1 = Avx512F.FusedMultiplyAdd(x, b1, u1);
            x = Vector512.Create(a1[i + 2]);
            U0 = Avx512F.FusedMultiplyAdd(x, b0, U0);
            U1 = Avx512F.FusedMultiplyAdd(x, b1, U1);
            b0 = Vector512.Load(b + 3 * Wide);
            b1 = Vector512.Load(b + 3 * Wide + 16);
            x = Vector512.Create(a0[i + 3]);
            v0 = Avx512F.FusedMultiplyAdd(x, b0, v0);
            v1 = Avx512F.FusedMultiplyAdd(x, b1, v1);
            x = Vector512.Create(a1[i + 3]);
            V0 = Avx512F.FusedMultiplyAdd(x, b0, V0);
            V1 = Avx512F.FusedMultiplyAdd(x, b1, V1);
        }
        for (; i < k; i++, b += Wide)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            s0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[i]), b0, s0);
            s1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[i]), b1, s1);
            S0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[i]), b0, S0);
            S1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[i]), b1, S1);
        }
        s0 = s0 + t0 + (u0 + v0);
        s1 = s1 + t1 + (u1 + v1);
        S0 = S0 + T0 + (U0 + V0);
        S1 = S1 + T1 + (U1 + V1);
        if (bias != null)
        {
            var c0 = Vector512.Load(bias);
            var c1 = Vector512.Load(bias + 16);
            s0 += c0;
            s1 += c1;
            S0 += c0;
            S1 += c1;
        }
        s0.Store(c);
        s1.Store(c + 16);
        S0.Store(c + ldc);
        S1.Store(c + ldc + 16);
    }

    public void Dispose()
    {
        if (_data != null) NativeMemory.AlignedFree(_data);
        if (_bias != null) NativeMemory.AlignedFree(_bias);
        _data = null;
        _bias = null;
    }
}
