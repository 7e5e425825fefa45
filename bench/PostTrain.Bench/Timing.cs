using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PostTrain.Bench;

/// <summary>Median and minimum wall time of repeated runs after warm-up. libtorch on CPU is synchronous, so a
/// Stopwatch around a call times the work itself.</summary>
internal sealed record Timing(double MedianSeconds, double MinSeconds, int Iterations)
{
    public static Timing Measure(Action action, int warmup, int iterations)
    {
        for (var i = 0; i < warmup; i++) action();
        var times = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        return FromSamples(times);
    }

    public static Timing FromSamples(IReadOnlyList<double> seconds)
    {
        if (seconds.Count == 0) throw new ArgumentException("no timing samples", nameof(seconds));
        var sorted = seconds.OrderBy(s => s).ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new Timing(median, sorted[0], sorted.Length);
    }

    public JsonObject ToJson() => new() { ["median_s"] = MedianSeconds, ["min_s"] = MinSeconds, ["iters"] = Iterations };
}
