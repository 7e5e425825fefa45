using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Core.Progress;
using PostTrain.Pretrain.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Pretrain.Tests;

public sealed class PretrainerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "posttrain-pretrain-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private PretrainOptions Tiny(string name, int steps = 8) => new()
    {
        Preset = "tiny",
        OutputDir = Path.Combine(_dir, name),
        Steps = steps,
        BatchSize = 4,
        SequenceLength = 32,
        LearningRate = 3e-3,
        WarmupSteps = 2,
        CheckpointEvery = 4,
        AverageLastK = 2,
        CorpusSize = 300,
        TaskDifficulty = 1,
        EvalEvery = 0,
        ExactMatchTasks = 4,
        ExactMatchMaxNewTokens = 4,
        Threads = 1,
        Seed = 7,
    };

    private sealed class Collect(Action<StageProgress>? onReport = null) : IProgress<StageProgress>
    {
        public List<StageProgress> Reports { get; } = [];
        public void Report(StageProgress value) { Reports.Add(value); onReport?.Invoke(value); }
    }

    [Fact]
    public void AdamWSteps_FixedBatch_LowerLoss()
    {
        manual_seed(1);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        using var rows = randint(0, 384, [4, 33], dtype: ScalarType.Int64);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-2);
        var first = Pretrainer.LanguageModelLoss(model, rows).item<float>();
        for (var i = 0; i < 10; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Pretrainer.LanguageModelLoss(model, rows).backward();
            optimizer.step();
        }
        var last = Pretrainer.LanguageModelLoss(model, rows).item<float>();
        Assert.True(last < first - 0.5, $"loss went from {first} to {last}, expected a drop of more than 0.5");
    }

    [Fact]
    public void LearningRate_CosineAndWsd_FollowSchedule()
    {
        var cosine = new Pretrainer(new PretrainOptions { Steps = 101, WarmupSteps = 10, LearningRate = 1e-3, MinLrRatio = 0.1 });
        Assert.Equal(1e-4, cosine.LearningRate(0), 12);
        Assert.Equal(1e-3, cosine.LearningRate(9), 12);
        Assert.Equal(1e-3, cosine.LearningRate(10), 12);
        Assert.Equal(0.55e-3, cosine.LearningRate(55), 12); // half way through the decay: the midpoint of peak and min
        Assert.Equal(1e-4, cosine.LearningRate(100), 12);
        Assert.True(cosine.LearningRate(30) > cosine.LearningRate(60));

        var wsd = new Pretrainer(new PretrainOptions { Steps = 100, WarmupSteps = 10, LearningRate = 1e-3, MinLrRatio = 0.1, Schedule = "wsd", AnnealFraction = 0.2 });
        Assert.Equal(1e-3, wsd.LearningRate(50), 12);
        Assert.Equal(1e-3, wsd.LearningRate(79), 12);
        Assert.True(wsd.LearningRate(85) < 1e-3);
        Assert.Equal(1e-4, wsd.LearningRate(99), 12);
    }

    [Fact]
    public void Run_Tiny_ReportsScheduledLrAndWritesFinalCheckpoint()
    {
        var options = Tiny("run");
        var pretrainer = new Pretrainer(options);
        var progress = new Collect();
        var result = pretrainer.Run(progress);

        Assert.Equal(Enumerable.Range(1, 8), progress.Reports.Select(r => (int)r.Step));
        for (var i = 0; i < 8; i++) Assert.Equal(pretrainer.LearningRate(i), progress.Reports[i].Metrics["lr"], 12);
        Assert.True(progress.Reports[^1].Metrics["loss"] < progress.Reports[0].Metrics["loss"]);
        using var loaded = Checkpoint.Load(result.CheckpointDir).Model;
        Assert.NotNull(Checkpoint.Load(result.CheckpointDir).Tokenizer);
        Assert.True(double.IsFinite(result.HeldOutLoss) && result.HeldOutLoss > 0);
        Assert.True(result.UnigramEntropy > 0);
        Assert.NotNull(result.ExactMatch);
        Assert.True(result.TokensPerSecond > 0);
    }

    [Fact]
    public void Run_ResumedAfterInterruption_EqualsUninterruptedRun()
    {
        var straight = new Pretrainer(Tiny("straight", steps: 12)).Run();

        var options = Tiny("resumed", steps: 12);
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() =>
            new Pretrainer(options).Run(new Collect(r => { if (r.Step == 6) cts.Cancel(); }), cts.Token));
        Assert.False(Directory.Exists(Path.Combine(options.OutputDir, "checkpoints", "step-000008")));
        var resumedProgress = new Collect();
        var resumed = new Pretrainer(options with { Resume = true }).Run(resumedProgress);

        Assert.Equal(5, resumedProgress.Reports[0].Step); // restarted after the step-4 checkpoint
        AssertSameWeights(Path.Combine(straight.CheckpointDir, "..", "checkpoints", "step-000012"), Path.Combine(resumed.CheckpointDir, "..", "checkpoints", "step-000012"));
        AssertSameWeights(straight.CheckpointDir, resumed.CheckpointDir);
        // AdamW moments too, byte for byte.
        string Moments(PretrainResult r) => Path.Combine(r.CheckpointDir, "..", "checkpoints", "step-000012", Pretrainer.TrainingStateDirName, "optimizer.safetensors");
        Assert.Equal(File.ReadAllBytes(Moments(straight)), File.ReadAllBytes(Moments(resumed)));
    }

    [Fact]
    public void Run_SameSeedTwice_SameWeightsHash()
    {
        var a = new Pretrainer(Tiny("a")).Run();
        var b = new Pretrainer(Tiny("b")).Run();
        var c = new Pretrainer(Tiny("c") with { Seed = 8 }).Run();
        var step = Path.Combine("..", "checkpoints", "step-000008");
        Assert.Equal(Checkpoint.ComputeHash(Path.Combine(a.CheckpointDir, step)), Checkpoint.ComputeHash(Path.Combine(b.CheckpointDir, step)));
        Assert.Equal(Checkpoint.ComputeHash(a.CheckpointDir), Checkpoint.ComputeHash(b.CheckpointDir));
        Assert.NotEqual(Checkpoint.ComputeHash(a.CheckpointDir), Checkpoint.ComputeHash(c.CheckpointDir));
    }

    [Fact]
    public void HeldOutLoss_KnownRows_EqualsMeanLossAndUnigramEntropyMatchesCounts()
    {
        manual_seed(3);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        // Tokens 1..40 then EOS(0), longer than a row of 9: it continues across 5 rows, the last one padded.
        using var packed = PackedSequences.Pack([Enumerable.Range(1, 40).ToArray()], eosId: 0, sequenceLength: 8, "test");
        Assert.Equal(5, packed.Count);
        Assert.Equal(new long[] { 10, 11, 12, 13, 14, 15, 16, 17, 18 }, packed.Rows[1].data<long>().ToArray());
        Assert.Equal(new long[] { 37, 38, 39, 40, 0, -1, -1, -1, -1 }, packed.Rows[4].data<long>().ToArray());

        var losses = Enumerable.Range(0, 5).Select(i => { using var r = packed.Rows[TensorIndex.Slice(i, i + 1)]; return (double)Pretrainer.LanguageModelLoss(model, r).item<float>(); }).ToArray();
        var counts = new[] { 8, 8, 8, 8, 4 };
        var expected = losses.Zip(counts, (l, c) => l * c).Sum() / counts.Sum();
        Assert.Equal(expected, Pretrainer.HeldOutLoss(model, packed, CPU, batchSize: 2), 5);
        // 36 distinct targets (all but the row starts 1, 10, 19, 28, 37), each once: entropy ln 36.
        Assert.Equal(Math.Log(36), Pretrainer.UnigramEntropy(packed), 9);

        // Short documents never straddle rows: [1,2,3]+EOS and [4,5,6]+EOS do not share a row of 5.
        using var whole = PackedSequences.Pack([[1, 2, 3], [4, 5, 6]], eosId: 0, sequenceLength: 4, "test");
        Assert.Equal(new long[] { 1, 2, 3, 0, -1, 4, 5, 6, 0, -1 }, whole.Rows.reshape(-1).data<long>().ToArray());
    }

    [Fact]
    public void Run_BadJsonlLine_ThrowsFileAndLine()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(path, ["{\"text\": \"one\"}", "", "{\"txt\": \"two\"}"]);
        var e = Assert.Throws<InvalidDataException>(() => new Pretrainer(Tiny("bad") with { DataFiles = [path] }).Run());
        Assert.StartsWith($"{path}:3: ", e.Message);
        Assert.Contains("text: missing field", e.Message, StringComparison.Ordinal);

        File.WriteAllText(path, "{\"text\": \"ok\"}\n{\"text\": 5}\n");
        Assert.StartsWith($"{path}:2: text: is Number", Assert.Throws<InvalidDataException>(() => TextDocuments.Load([path])).Message);
    }

    [Fact]
    public void Run_TextFiles_TrainsOnUserDocuments()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "corpus.txt");
        var blocks = Enumerable.Range(0, 60).Select(i => $"The cat number {i} sat on the mat.\nIt was a good cat.");
        File.WriteAllText(path, string.Join("\n\n", blocks));
        Assert.Equal(60, TextDocuments.Load([path]).Count);
        var result = new Pretrainer(Tiny("text") with { DataFiles = [path], HeldOutFraction = 0.2 }).Run();
        Assert.Null(result.ExactMatch);
        Assert.True(double.IsFinite(result.HeldOutLoss));
    }

    private static void AssertSameWeights(string a, string b)
    {
        var x = Checkpoint.Load(a);
        var y = Checkpoint.Load(b);
        var sx = x.Model.state_dict();
        var sy = y.Model.state_dict();
        Assert.Equal(sx.Keys.Order(), sy.Keys.Order());
        foreach (var (name, t) in sx)
            Assert.True(t.equal(sy[name]).all().item<bool>(), $"{name} differs between {a} and {b}: max |diff| {(t - sy[name]).abs().max().item<float>()}");
    }
}
