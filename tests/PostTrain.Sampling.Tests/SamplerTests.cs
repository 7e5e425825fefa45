using PostTrain.Model;
using PostTrain.Core.Progress;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Sampling.Tests;

public class SamplerTests
{
    internal static LlamaForCausalLM TinyModel(int seed = 1)
    {
        manual_seed(seed);
        var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        model.eval();
        return model;
    }

    internal static TokenPrompt[] RaggedPrompts() =>
    [
        new("a", [5, 6, 7, 8, 9, 10, 11]),
        new("b", [12, 13, 14]),
        new("c", [15]),
        new("d", [16, 17, 18, 19, 20]),
        new("e", [21, 22]),
    ];

    private static SamplingOptions Options(double temperature = 1.0, int n = 2, int batch = 32, long seed = 7) => new()
    {
        SamplesPerPrompt = n, Temperature = temperature, TopP = 0.95, TopK = 100, MaxNewTokens = 8,
        StopIds = [], BatchSize = batch, Seed = seed,
    };

    private static long[] L(IEnumerable<int> ids) => ids.Select(x => (long)x).ToArray();

    [Fact]
    public void Generate_Greedy_EqualsArgmaxOfFullForwardAtEachStep()
    {
        using var model = TinyModel(2);
        var prompt = new TokenPrompt("p", [3, 4, 5, 6]);
        var seq = new Sampler(model, Options(temperature: 0, n: 1)).Generate([prompt]).Sequences.Single();
        Assert.Equal(8, seq.TokenIds.Length);
        Assert.False(seq.Stopped);
        using var _ = no_grad();
        var context = prompt.Ids.ToList();
        for (var t = 0; t < seq.TokenIds.Length; t++)
        {
            using var logits = model.forward(tensor(L(context)).unsqueeze(0))[0, -1]; // (V,)
            Assert.Equal(logits.argmax().item<long>(), seq.TokenIds[t]);
            Assert.Equal(F.log_softmax(logits, 0)[seq.TokenIds[t]].item<float>(), seq.LogProbs[t], 4);
            context.Add(seq.TokenIds[t]);
        }
    }

    [Fact]
    public void Generate_SameSeed_IdenticalAcrossBatchSizes()
    {
        using var model = TinyModel(3);
        var prompts = RaggedPrompts();
        // BatchSize 1 and 4 hold one and two prompts of N = 2 rows; 100 holds all five.
        var runs = new[] { 1, 4, 100 }.Select(b => new Sampler(model, Options(batch: b)).Generate(prompts).Sequences).ToArray();
        foreach (var run in runs[1..])
        {
            Assert.Equal(runs[0].Count, run.Count);
            for (var i = 0; i < run.Count; i++)
            {
                Assert.Equal((runs[0][i].PromptId, runs[0][i].SampleIndex), (run[i].PromptId, run[i].SampleIndex));
                Assert.Equal(runs[0][i].TokenIds, run[i].TokenIds);
                Assert.Equal(runs[0][i].SumLogProb, run[i].SumLogProb, 3);
            }
        }
        var otherSeed = new Sampler(model, Options(seed: 8)).Generate(prompts).Sequences;
        Assert.NotEqual(runs[0].Select(s => s.TokenIds), otherSeed.Select(s => s.TokenIds));
    }

    [Fact]
    public void Generate_NPerPrompt_InputOrderThenSampleIndex()
    {
        using var model = TinyModel(4);
        var prompts = RaggedPrompts();
        var result = new Sampler(model, Options(n: 3)).Generate(prompts);
        Assert.Equal(15, result.Sequences.Count);
        Assert.Equal(prompts.SelectMany(p => Enumerable.Range(0, 3).Select(k => (p.Id, k))), result.Sequences.Select(s => (s.PromptId, s.SampleIndex)));
        // Sampled at temperature 1 from a near-uniform tiny model, a prompt's three samples are not all the same.
        Assert.All(result.Sequences.Chunk(3), g => Assert.True(g.Select(s => string.Join(",", s.TokenIds)).Distinct().Count() > 1));
        Assert.Equal(5, result.Stats.Prompts);
        Assert.Equal(prompts.Sum(p => p.Ids.Length), result.Stats.PrefillTokens);
        Assert.Equal(15 * 8, result.Stats.GeneratedTokens);
        Assert.True(result.Stats.TokensPerSecond > 0);
    }

    [Fact]
    public void Generate_TemperatureZero_AllSamplesOfAPromptEqual()
    {
        using var model = TinyModel(5);
        var seqs = new Sampler(model, Options(temperature: 0, n: 3)).Generate(RaggedPrompts()[..2]).Sequences;
        Assert.All(seqs.Chunk(3), g => Assert.All(g, s => Assert.Equal(g[0].TokenIds, s.TokenIds)));
    }

    [Fact]
    public void Generate_RaggedGreedy_SameAsEachPromptAlone()
    {
        using var model = TinyModel(6);
        var prompts = RaggedPrompts();
        var sampler = new Sampler(model, Options(temperature: 0, n: 1, batch: 100));
        var together = sampler.Generate(prompts).Sequences;
        for (var i = 0; i < prompts.Length; i++)
            Assert.Equal(sampler.Generate([prompts[i]]).Sequences.Single().TokenIds, together[i].TokenIds);
    }

    [Fact]
    public void Generate_SharedPromptCache_SameAsPrefillingEachContinuation()
    {
        // Reference: every continuation recomputes its whole sequence with no cache, drawing the same per-stream uniforms
        // (through the device version of the inverse CDF: softmax, cumsum, searchsorted).
        using var model = TinyModel(7);
        var options = Options(n: 3) with { StopIds = Enumerable.Range(0, 40).ToArray() };
        var prompts = RaggedPrompts()[..3];
        var seqs = new Sampler(model, options).Generate(prompts).Sequences;
        // Some rows stop early and some run to the limit, so the finished-row compaction path is exercised.
        Assert.Contains(seqs, s => s.Stopped && s.TokenIds.Length < options.MaxNewTokens);
        Assert.Contains(seqs, s => !s.Stopped);
        using var _ = no_grad();
        var V = model.Config.VocabSize;
        foreach (var s in seqs)
        {
            var key = CounterRandom.StreamKey(options.Seed, s.PromptId, s.SampleIndex);
            var context = prompts.Single(p => p.Id == s.PromptId).Ids.ToList();
            var expected = new List<int>();
            for (var t = 0; t < options.MaxNewTokens; t++)
            {
                using var logits = model.forward(tensor(L(context)).unsqueeze(0))[.., -1]; // (1, V)
                using var filtered = Sampler.Filter(logits / options.Temperature, options.TopK, options.TopP);
                using var chosen = InverseCdf.Choose(filtered, [key], [t], onHost: false);
                var next = (int)chosen.item<long>();
                expected.Add(next);
                context.Add(next);
                if (options.StopIds!.Contains(next)) break;
            }
            Assert.Equal(expected, s.TokenIds);
            Assert.Equal(options.StopIds!.Contains(expected[^1]), s.Stopped);
        }
    }

    [Fact]
    public void Generate_StopToken_EndsOnlyThatRow()
    {
        using var model = TinyModel(8);
        var prompts = RaggedPrompts()[..2];
        var free = new Sampler(model, Options(temperature: 0, n: 1)).Generate(prompts).Sequences;
        var a = free[0].TokenIds;
        var cut = Enumerable.Range(1, a.Length - 1).First(i => Array.IndexOf(a, a[i]) == i && !free[1].TokenIds.Contains(a[i]));
        var stopped = new Sampler(model, Options(temperature: 0, n: 1) with { StopIds = [a[cut]] }).Generate(prompts).Sequences;
        Assert.Equal(a[..(cut + 1)], stopped[0].TokenIds);
        Assert.True(stopped[0].Stopped);
        Assert.Equal(free[1].TokenIds, stopped[1].TokenIds);
        Assert.False(stopped[1].Stopped);
    }

    [Fact]
    public void Generate_ReportsProgressPerFinishedPrompt()
    {
        using var model = TinyModel(9);
        var reports = new List<StageProgress>();
        new Sampler(model, Options(batch: 4)).Generate(RaggedPrompts(), new SyncProgress(reports.Add));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.Equal(5, r.Total));
        Assert.True(reports[^1].Metrics["tokens_per_s"] > 0);
    }

    [Fact]
    public void Generate_PromptTooLong_ErrorNamesPromptAndLimit()
    {
        using var model = TinyModel(10);
        var e = Assert.Throws<ArgumentException>(() => new Sampler(model, Options()).Generate([new TokenPrompt("long", new int[128])]));
        Assert.Contains("prompt 0 (long) has 128 tokens", e.Message);
        var dup = Assert.Throws<ArgumentException>(() => new Sampler(model, Options()).Generate([new TokenPrompt("x", [1]), new TokenPrompt("x", [2])]));
        Assert.Contains("'x' appears twice", dup.Message);
    }

    [Fact]
    public void Filter_TopKAndTopP_KeepExpectedIds()
    {
        using var logits = tensor(new[] { 0.5f, 0.3f, 0.15f, 0.05f }).log().unsqueeze(0);
        using var k2 = Sampler.Filter(logits, 2, 1.0);
        Assert.Equal([true, true, false, false], k2[0].isfinite().data<bool>().ToArray());
        using var p75 = Sampler.Filter(logits, 0, 0.75);
        Assert.Equal([true, true, false, false], p75[0].isfinite().data<bool>().ToArray());
        using var p40 = Sampler.Filter(logits, 0, 0.4);
        Assert.Equal([true, false, false, false], p40[0].isfinite().data<bool>().ToArray());
        using var p90 = Sampler.Filter(logits, 0, 0.9);
        Assert.Equal([true, true, true, false], p90[0].isfinite().data<bool>().ToArray());
    }

    [Fact]
    public void CounterRandom_StreamsDifferBySeedPromptAndSample()
    {
        var keys = new[] { CounterRandom.StreamKey(1, "a", 0), CounterRandom.StreamKey(2, "a", 0), CounterRandom.StreamKey(1, "b", 0), CounterRandom.StreamKey(1, "a", 1) };
        Assert.Equal(4, keys.Distinct().Count());
        Assert.Equal(CounterRandom.StreamKey(1, "a", 0), keys[0]);
        var u = Enumerable.Range(0, 10000).Select(i => CounterRandom.Uniform(keys[0], (ulong)i)).ToArray();
        Assert.All(u, x => Assert.InRange(x, 0.0, 1.0));
        Assert.InRange(u.Average(), 0.48, 0.52);
    }

    internal sealed class SyncProgress(Action<StageProgress> report) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => report(value);
    }
}
