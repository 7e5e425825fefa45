using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PostTrain.Model.Inference;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests;

public unsafe class PackedMatrixTests
{
    private static float* Ptr(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    public static TheoryData<int, int, int[], bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int[], bool, bool>();
        foreach (var wide in System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? new[] { false, true } : [false])
        {
            data.Add(13, 29, [37], false, wide);        // rows past the 6-row blocks, a partial last panel
            data.Add(12, 64, [64, 32, 32], true, wide); // fused q|k|v with biases, whole panels
            data.Add(1, 7, [5, 20], true, wide);        // one row (one sequence), a width under one panel
            data.Add(20, 176, [64], false, wide);
            data.Add(9, 30, [37], true, wide);          // from row 1: one block and a pair past it, a partial last panel
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_EqualsLinear_OnTheRowsAsked(int rows, int inputs, int[] outs, bool bias, bool wide)
    {
        manual_seed(rows * 1000 + inputs);
        var weights = outs.Select(o => randn(o, inputs)).ToArray();
        var biases = outs.Select(o => bias ? randn(o) : null).ToArray();
        using var packed = new PackedMatrix(weights, biases, wide);
        var width = outs.Sum();
        Assert.Equal((inputs, width), (packed.In, packed.Out));
        // Inputs and outputs with row strides wider than the matrix, as the decode step's buffers are views of wider rows.
        using var x = randn(rows, inputs + 3);
        using var y = full(rows, width + 5, float.NaN);
        var (start, end) = (rows > 2 ? 1 : 0, rows);
        packed.Multiply(Ptr(x), inputs + 3, Ptr(y), width + 5, start, end);

        using var w = cat(weights, 0);
        using var expected = x.narrow(1, 0, inputs).matmul(w.t()) + (bias ? cat(biases!.Select(b => b!).ToArray(), 0) : zeros(width));
        var got = y.narrow(1, 0, width).narrow(0, start, end - start);
        var diff = (got - expected.narrow(0, start, end - start)).abs().max().item<float>();
        Assert.True(diff < 1e-4f, $"max |packed − linear| = {diff}");
        // Nothing written outside the rows and columns asked for.
        Assert.True(y.narrow(1, width, 5).isnan().all().item<bool>(), "wrote past the matrix's columns");
        if (start > 0) Assert.True(y.narrow(0, 0, start).isnan().all().item<bool>(), "wrote rows before start");
        foreach (var t in weights) t.Dispose();
        foreach (var t in biases) t?.Dispose();
    }

    /// <summary>The 512-bit panels compute every element by the same chain of FMAs as the 256-bit ones: a sampler's tokens do not depend on the CPU's vector width.</summary>
    /// <remarks>23 rows: three 6-row blocks and five rows past them (two pairs and one row in the wide kernels); 1 row: one
    /// sequence; 2 rows: one pair; inputs that are not a multiple of 4 take the remainder loops.</remarks>
    [Theory]
    [InlineData(23, 72)]
    [InlineData(1, 70)]
    [InlineData(5, 129)]
    [InlineData(2, 64)]
    [InlineData(10, 33)]
    public void Multiply_WideAndNarrowPanels_GiveTheSameBits(int rows, int inputs)
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return; // nothing to compare on this CPU: only the narrow kernel runs
        manual_seed(8);
        using var w = randn(100, inputs);
        using var b = randn(100);
        using var narrow = new PackedMatrix([w], [b], wide: false);
        using var wide = new PackedMatrix([w], [b], wide: true);
        using var x = randn(rows, inputs);
        using var y0 = zeros(rows, 100);
        using var y1 = zeros(rows, 100);
        narrow.Multiply(Ptr(x), inputs, Ptr(y0), 100, 0, rows);
        wide.Multiply(Ptr(x), inputs, Ptr(y1), 100, 0, rows);
        Assert.Equal(y0.data<float>().ToArray(), y1.data<float>().ToArray());
    }

    [Fact]
    public void Constructor_RefusesWeightsOfDifferentInputWidths()
    {
        using var a = randn(4, 8);
        using var b = randn(4, 9);
        var e = Assert.Throws<ArgumentException>(() => new PackedMatrix([a, b]));
        Assert.Contains("one input width", e.Message);
    }
}
