using PostTrain.Pretrain.Scaling;

namespace PostTrain.Pretrain.Tests.Scaling;

public sealed class ScalingLawFitterTests
{
    // Chinchilla's own fit (Hoffmann et al. 2022, eq. 10) and one in the range our tiny runs reach.
    private static readonly ScalingLaw Chinchilla = new(1.69, 406.4, 0.34, 410.7, 0.28);
    private static readonly ScalingLaw Tiny = new(0.9, 60, 0.45, 900, 0.5);

    private static List<ScalingObservation> Grid(ScalingLaw law, double[] sizes, double[] tokens, double noise, int seed)
    {
        var random = new Random(seed);
        var runs = new List<ScalingObservation>();
        foreach (var n in sizes)
        foreach (var d in tokens)
        {
            // Multiplicative Gaussian noise: a run's loss is off by a fraction, not by nats.
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            runs.Add(new ScalingObservation(n, d, law.Predict(n, d) * Math.Exp(noise * z)));
        }
        return runs;
    }

    [Fact]
    public void Fit_ExactLosses_RecoversChinchillasParameters()
    {
        var runs = Grid(Chinchilla, [1e7, 3e7, 1e8, 3e8, 1e9], [1e9, 3e9, 1e10, 3e10, 1e11], noise: 0, seed: 1);
        var fit = ScalingLawFitter.Fit(runs);
        Assert.Equal(Chinchilla.E, fit.Law.E, 2);
        Assert.Equal(Chinchilla.Alpha, fit.Law.Alpha, 3);
        Assert.Equal(Chinchilla.Beta, fit.Law.Beta, 3);
        Assert.InRange(fit.Law.A / Chinchilla.A, 0.99, 1.01);
        Assert.InRange(fit.Law.B / Chinchilla.B, 0.99, 1.01);
        Assert.True(fit.RmsLogResidual < 1e-5, $"rms log residual {fit.RmsLogResidual}, expected ~0 on exact losses");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fit_NoisyLosses_RecoversParametersAndPredictsALargerRun(int seed)
    {
        var runs = Grid(Tiny, [2e4, 5e4, 1e5, 2e5, 5e5], [2e5, 5e5, 1e6, 2e6, 5e6], noise: 0.005, seed);
        var fit = ScalingLawFitter.Fit(runs);
        Assert.InRange(fit.Law.Alpha, Tiny.Alpha - 0.1, Tiny.Alpha + 0.1);
        Assert.InRange(fit.Law.Beta, Tiny.Beta - 0.1, Tiny.Beta + 0.1);
        Assert.InRange(fit.Law.E, Tiny.E - 0.15, Tiny.E + 0.15);
        // Extrapolated 4× beyond the grid in both N and D, the prediction stays within 3% of the true law.
        var (n, d) = (2e6, 2e7);
        var relative = Math.Abs(fit.Law.Predict(n, d) / Tiny.Predict(n, d) - 1);
        Assert.True(relative < 0.03, $"prediction {fit.Law.Predict(n, d):F4} vs true {Tiny.Predict(n, d):F4}: {relative:P1} off with {fit.Law}");
        Assert.InRange(fit.RmsLogResidual, 0.001, 0.01);
    }

    [Fact]
    public void Fit_OneDivergedRun_HuberKeepsTheLaw()
    {
        var runs = Grid(Tiny, [2e4, 5e4, 1e5, 2e5, 5e5], [2e5, 5e5, 1e6, 2e6, 5e6], noise: 0, seed: 1);
        runs[7] = runs[7] with { Loss = runs[7].Loss * 1.5 };
        var fit = ScalingLawFitter.Fit(runs);
        Assert.InRange(fit.Law.Alpha, Tiny.Alpha - 0.02, Tiny.Alpha + 0.02);
        Assert.InRange(fit.Law.Beta, Tiny.Beta - 0.02, Tiny.Beta + 0.02);
    }

    [Fact]
    public void Fit_OneModelSizeOnly_RefusedWithTheCounts()
    {
        var runs = Grid(Tiny, [1e5], [2e5, 5e5, 1e6, 2e6, 5e6], noise: 0, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => ScalingLawFitter.Fit(runs));
        Assert.Contains("1 model sizes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_NonPositiveLoss_NamesTheObservation()
    {
        var runs = Grid(Tiny, [2e4, 5e4], [2e5, 5e5, 1e6], noise: 0, seed: 1);
        runs[4] = runs[4] with { Loss = double.NaN };
        Assert.Contains("observation 4", Assert.Throws<ArgumentException>(() => ScalingLawFitter.Fit(runs)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScaledPreset_Width_KeepsHeadsAndScalesTheMlp()
    {
        var tiny = PostTrain.Model.LlamaConfig.Preset("tiny");
        var wide = ScaledPreset.For("tiny", hiddenSize: 128, layers: 3);
        Assert.Equal((128, 3, tiny.NumAttentionHeads), (wide.HiddenSize, wide.NumHiddenLayers, wide.NumAttentionHeads));
        Assert.Equal(352, wide.IntermediateSize); // 176/64 × 128
        var perLayer = 2 * 128 * 128 + 2 * 128 * 64 + 3 * 352 * 128 + 2 * 128; // q,o + k,v (2 of 4 heads) + MLP + norms
        Assert.Equal(3L * perLayer + 128, ScaledPreset.NonEmbeddingParameters(wide));
        Assert.Contains("multiple of 2 × 4", Assert.Throws<ArgumentException>(() => ScaledPreset.For("tiny", hiddenSize: 60)).Message, StringComparison.Ordinal);
    }
}
