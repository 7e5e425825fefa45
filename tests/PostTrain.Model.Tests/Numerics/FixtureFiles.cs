using PostTrain.Model.Checkpoints;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Numerics;

/// <summary>Reference values from tests/fixtures-gen/make_fixtures.py (PyTorch, float64), copied next to the test assembly.</summary>
internal static class FixtureFiles
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static Dictionary<string, Tensor> Load(string file, out IReadOnlyDictionary<string, string> metadata) =>
        SafeTensors.ReadAll(Path.Combine(Dir, file), out metadata);

    public static Dictionary<string, Tensor> Load(string file) => Load(file, out _);

    /// <summary>Max |actual − expected| / (1 + |expected|): absolute near 0, relative for large values.</summary>
    public static double MaxRelativeDiff(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var a = actual.detach().to_type(ScalarType.Float64);
        var e = expected.to_type(ScalarType.Float64);
        return ((a - e).abs() / (e.abs() + 1)).max().item<double>();
    }

    public static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        return (actual.detach().to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max().item<double>();
    }
}
