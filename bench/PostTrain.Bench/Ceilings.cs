using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>What this machine can do at best, measured in the same run as everything else.</summary>
/// <param name="GemmFlops">fp32 square GEMM FLOP/s through libtorch: the denominator of every MFU figure.</param>
/// <param name="CopyBytesPerSecond">Large tensor copy, bytes read + written per second: the decode bound's denominator.</param>
internal sealed record Ceilings(double GemmFlops, double CopyBytesPerSecond, JsonObject Json)
{
    public static Ceilings Measure(bool quick)
    {
        const int n = 2048;
        manual_seed(0);
        using var a = randn(n, n);
        using var b = randn(n, n);
        var gemm = Timing.Measure(() => { using var c = a.mm(b); }, warmup: 2, iterations: quick ? 3 : 10);
        // A ceiling is the best the machine did: the fastest run, not the median (which a busy machine drags down).
        var flops = 2.0 * n * n * n / gemm.MinSeconds;

        // 256 MiB each way: far past any cache level, so this is DRAM bandwidth.
        var elements = 64L << 20;
        using var src = randn(elements);
        using var dst = empty(elements);
        var copy = Timing.Measure(() => dst.copy_(src), warmup: 2, iterations: quick ? 3 : 10);
        var bytes = 2.0 * elements * sizeof(float) / copy.MinSeconds;

        var t = new Table("Ceilings (libtorch via TorchSharp)", "measure", "shape", "best s", "median s", "figure (best)");
        t.Add("fp32 GEMM", $"{n}x{n} @ {n}x{n}", gemm.MinSeconds, gemm.MedianSeconds, $"{flops / 1e9:F1} GFLOP/s");
        t.Add("tensor copy", $"{elements * 4 >> 20} MiB", copy.MinSeconds, copy.MedianSeconds, $"{bytes / 1e9:F2} GB/s (read+write)");
        Console.Write(t);
        return new Ceilings(flops, bytes, new JsonObject
        {
            ["gemm"] = new JsonObject { ["n"] = n, ["gflops"] = flops / 1e9, ["timing"] = gemm.ToJson() },
            ["copy"] = new JsonObject { ["bytes_each_way"] = elements * 4, ["gb_per_s_read_plus_write"] = bytes / 1e9, ["timing"] = copy.ToJson() },
        });
    }
}
