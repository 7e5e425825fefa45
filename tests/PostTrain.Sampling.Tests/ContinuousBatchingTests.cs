using static TorchSharp.torch;

namespace PostTrain.Sampling.Tests;

public class ContinuousBatchingTests
{
    private static readonly int[] Stops = [3, 17, 42, 101, 250];

    /// <summary>Ragged prompts (1 to 30 tokens, one near max_position_embeddings) whose rows stop at different steps.</summary>
    private static TokenPrompt[] Prompts()
    {
        var rnd = new Random(4);
        var prompts = Enumerable.Range(0, 11).Select(i => new TokenPrompt($"p{i}", Enumerable.Range(0, 1 + rnd.Next(30)).Select(_ => 4 + rnd.Next(300)).ToArray())).ToList();
        prompts.Insert(5, new TokenPrompt("long", Enumerable.Range(0, 124).Select(i => 5 + i).ToArray())); // tiny: 128 positions → 4 tokens at most
        return [.. prompts];
    }

    private static SamplingOptions Options(int batch, double temperature = 1.0) => new()
    {
        SamplesPerPrompt = 3, Temperature = temperature, MaxNewTokens = 24, StopIds = Stops, BatchSize = batch, Seed = 11,
    };

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.0)]
    public void Continuous_SameSamplesAsStaticBatching(double temperature)
    {
        using var model = SamplerTests.TinyModel(5);
        var prompts = Prompts();
        // BatchSize 3 = one prompt's N rows at a time; 36 = every prompt in one static batch; 7 = two prompts' slots,
        // refilled as rows stop, so prompts join while others are mid-way.
        var runs = new[] { 3, 36, 7 }.Select(b => new Sampler(model, Options(b, temperature)).Generate(prompts)).ToArray();
        Assert.Equal(36, runs[1].Stats.Slots);
        Assert.Equal(6, runs[2].Stats.Slots);
        foreach (var run in runs[1..])
        {
            Assert.Equal(runs[0].Sequences.Count, run.Sequences.Count);
            for (var i = 0; i < run.Sequences.Count; i++)
            {
                var (a, b) = (runs[0].Sequences[i], run.Sequences[i]);
                Assert.Equal((a.PromptId, a.SampleIndex, a.Stopped), (b.PromptId, b.SampleIndex, b.Stopped));
                Assert.Equal(a.TokenIds, b.TokenIds);
                Assert.Equal(a.SumLogProb, b.SumLogProb, 3);
            }
        }
    }

    [Fact]
    public void Continuous_RowsEndAtTheirOwnStopOrLimit()
    {
        using var model = SamplerTests.TinyModel(5);
        var prompts = Prompts();
        var sequences = new Sampler(model, Options(7)).Generate(prompts).Sequences;
        Assert.Equal(prompts.Length * 3, sequences.Count);
        Assert.Equal(prompts.SelectMany(p => Enumerable.Range(0, 3).Select(k => (p.Id, k))), sequences.Select(s => (s.PromptId, s.SampleIndex)));
        foreach (var s in sequences)
        {
            var limit = s.PromptId == "long" ? 4 : 24;
            Assert.Equal(s.TokenIds.Length, s.LogProbs.Length);
            if (s.Stopped)
            {
                Assert.Contains(s.TokenIds[^1], Stops);
                Assert.InRange(s.TokenIds.Length, 1, limit);
            }
            else Assert.Equal(limit, s.TokenIds.Length);
            Assert.DoesNotContain(s.TokenIds[..^1], t => Stops.Contains(t));
            Assert.All(s.LogProbs, lp => Assert.True(lp <= 0 && float.IsFinite(lp)));
        }
        // The test is only worth something if rows of one batch finish at different steps.
        Assert.Contains(sequences, s => s.Stopped);
        Assert.True(sequences.Select(s => s.TokenIds.Length).Distinct().Count() > 3);
    }

    [Fact]
    public void MemoryBudget_ChoosesTheSlotsAndKeepsTheSamples()
    {
        using var model = SamplerTests.TinyModel(5);
        var prompts = Prompts();
        var unlimited = new Sampler(model, Options(36)).Generate(prompts);
        Assert.Equal(SamplingStats.ByBatchSize, unlimited.Stats.SlotsLimitedBy);
        var perSlot = unlimited.Stats.KvBytesPerSlot;
        // Room for two prompts' 3 rows and a bit: 6 slots, not the 36 BatchSize allows.
        var budgeted = new Sampler(model, Options(36) with { KvCacheBudgetBytes = 7 * perSlot }).Generate(prompts);
        Assert.Equal(6, budgeted.Stats.Slots);
        Assert.Equal(SamplingStats.ByMemoryBudget, budgeted.Stats.SlotsLimitedBy);
        Assert.Equal(6 * perSlot, budgeted.Stats.KvCacheBytes);
        Assert.Equal(unlimited.Sequences.Select(s => s.TokenIds), budgeted.Sequences.Select(s => s.TokenIds));
        // Fewer prompts than the batch holds: the slots are what the prompts need.
        var one = new Sampler(model, Options(36)).Generate(prompts[..1]).Stats;
        Assert.Equal((3, SamplingStats.ByPrompts), (one.Slots, one.SlotsLimitedBy));

        var error = Assert.Throws<ArgumentException>(() => new Sampler(model, Options(36) with { KvCacheBudgetBytes = 2 * perSlot }).Generate(prompts));
        Assert.Contains("KvCacheBudgetBytes", error.Message);
        Assert.Contains($"{3 * perSlot}", error.Message);
    }

    [Fact]
    public void InverseCdf_HostLoopEqualsTheDeviceVersion_AndNeverPicksAFilteredId()
    {
        manual_seed(3);
        const int rows = 64, V = 300;
        using var logits = randn(rows, V) * 3;
        using var filtered = Sampler.Filter(logits, 40, 0.9);
        var keys = Enumerable.Range(0, rows).Select(a => CounterRandom.StreamKey(5, $"p{a}", a % 3)).ToArray();
        var steps = Enumerable.Range(0, rows).Select(a => a * 7).ToArray();
        using var host = InverseCdf.Choose(filtered, keys, steps);
        using var device = InverseCdf.Choose(filtered, keys, steps, onHost: false);
        Assert.Equal(device.data<long>().ToArray(), host.data<long>().ToArray());
        var values = filtered.data<float>().ToArray();
        var ids = host.data<long>().ToArray();
        for (var a = 0; a < rows; a++) Assert.True(float.IsFinite(values[a * V + (int)ids[a]]), $"row {a} picked filtered id {ids[a]}");
    }

    [Fact]
    public void InverseCdf_DrawsFromTheSoftmax()
    {
        // One stream, 20,000 steps over a fixed 4-id distribution: each frequency within 4 standard errors of its probability.
        float[] logits = [0f, 1f, 2f, -1f];
        var p = logits.Select(x => Math.Exp(x)).ToArray();
        p = p.Select(x => x / p.Sum()).ToArray();
        const int draws = 20_000;
        using var rows = tensor(Enumerable.Range(0, draws).SelectMany(_ => logits).ToArray()).view(draws, 4);
        var key = CounterRandom.StreamKey(9, "q", 0);
        using var tokens = InverseCdf.Choose(rows, Enumerable.Repeat(key, draws).ToArray(), Enumerable.Range(0, draws).ToArray());
        var counts = new int[4];
        foreach (var t in tokens.data<long>().ToArray()) counts[t]++;
        for (var v = 0; v < 4; v++)
        {
            var se = Math.Sqrt(p[v] * (1 - p[v]) / draws);
            Assert.InRange(counts[v] / (double)draws, p[v] - 4 * se, p[v] + 4 * se);
        }
    }
}
