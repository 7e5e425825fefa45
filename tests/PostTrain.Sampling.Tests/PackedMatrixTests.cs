using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace PostTrain.Sampling.Tests;

public unsafe class PackedMatrixTests
{
    private static float* Ptr(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    [Theory]
    [InlineData(13, 29, new[] { 37 }, false)]         // rows past the 6-row blocks, a partial last panel
    [InlineData(12, 64, new[] { 64, 32, 32 }, true)]   // fused q|k|v with biases, whole panels
    [InlineData(1, 7, new[] { 5, 20 }, true)]          // one row (one sequence), a width under one panel
    [InlineData(20, 176, new[] { 64 }, false)]
    public void Multiply_EqualsLinear_OnTheRowsAsked(int rows, int inputs, int[] outs, bool bias)
    {
        manual_seed(rows * 1000 + inputs);
        var weights = outs.Select(o => randn(o, inputs)).ToArray();
        var biases = outs.Select(o => bias ? randn(o) : null).ToArray();
        using var packed = new PackedMatrix(weights, biases);
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

    [Fact]
    public void Constructor_RefusesWeightsOfDifferentInputWidths()
    {
        using var a = randn(4, 8);
        using var b = randn(4, 9);
        var e = Assert.Throws<ArgumentException>(() => new PackedMatrix([a, b]));
        Assert.Contains("one input width", e.Message);
    }
}
