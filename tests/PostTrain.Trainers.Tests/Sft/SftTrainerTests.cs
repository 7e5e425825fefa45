using PostTrain.Core.Progress;
using PostTrain.Model.Tokenization;
using PostTrain.Model.Training;
using PostTrain.Trainers.Sft;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Tests.Sft;

public class SftTrainerTests
{
    [Fact]
    public void Loss_GradientAtPromptPositions_IsExactlyZero()
    {
        using var scope = NewDisposeScope();
        using var model = TinyData.Model();
        var examples = TinyData.Examples(3, seed: 1);
        using var batch = TokenBatch.Pad(examples.Select(e => (e.Ids, TokenTargets.Response(e))).ToList(), TinyData.Pad);
        var logits = batch.Forward(model).detach().requires_grad_(true); // (B, T, V)
        SftTrainer.Loss(logits, batch.Targets).backward();
        var grad = logits.grad!;
        for (var b = 0; b < examples.Count; b++)
        {
            var e = examples[b];
            // Logits at t predict id t+1: positions before PromptLength − 1 predict prompt ids; pads after the row predict nothing.
            var promptRows = grad[b, TensorIndex.Slice(0, e.PromptLength - 1)];
            Assert.Equal(0f, promptRows.abs().max().item<float>());
            var padRows = grad[b, TensorIndex.Slice(e.Length - 1)];
            Assert.Equal(0f, padRows.abs().max().item<float>());
            var responseRows = grad[b, TensorIndex.Slice(e.PromptLength - 1, e.Length - 1)];
            Assert.True(responseRows.abs().amax([-1]).min().item<float>() > 0, "every response position must get a gradient");
        }
    }

    [Fact]
    public void Loss_ChangingPromptTokensTargets_ChangesNothing()
    {
        using var scope = NewDisposeScope();
        var a = TinyData.Example([30, 31, 32], [40, 41]);
        var b = TinyData.Example([30, 31, 99], [40, 41]); // differs only in a prompt id
        var ta = TokenTargets.Response(a);
        var tb = TokenTargets.Response(b);
        Assert.Equal(ta, tb);
        Assert.All(ta[..(a.PromptLength - 1)], t => Assert.Equal(TokenTargets.IgnoreIndex, t));
        Assert.Equal(a.Ids[a.PromptLength], ta[a.PromptLength - 1]);
        Assert.Equal(TinyData.Eot, ta[^2]); // SFT learns to stop
        Assert.Equal(TokenTargets.IgnoreIndex, ta[^1]);
    }

    [Fact]
    public void Loss_Packed_EqualsUnpacked()
    {
        using var scope = NewDisposeScope();
        using var model = TinyData.Model(3);
        var rows = TinyData.Examples(6, seed: 2).Select(e => (e.Ids, TokenTargets.Response(e))).ToList();
        using var padded = TokenBatch.Pad(rows, TinyData.Pad);
        using var packed = TokenBatch.Pack(rows, blockSize: 64, TinyData.Pad);
        Assert.True(packed.Rows < padded.Rows, $"packing should use fewer rows, got {packed.Rows} vs {padded.Rows}");
        using var _ = no_grad();
        var lossPadded = SftTrainer.Loss(padded.Forward(model), padded.Targets).item<float>();
        var lossPacked = SftTrainer.Loss(packed.Forward(model), packed.Targets).item<float>();
        Assert.Equal(lossPadded, lossPacked, 4);

        // Without the block-diagonal mask and restarted positions the loss differs: the mask is what makes them equal.
        var leaky = SftTrainer.Loss(model.forward(packed.Ids), packed.Targets).item<float>();
        Assert.NotEqual(lossPadded, leaky, 3);
    }

    [Fact]
    public void Train_FewSteps_LowersLossAndReportsMetrics()
    {
        using var model = TinyData.Model(4);
        var train = Enumerable.Repeat(0, 8).Select(_ => TinyData.Example([30, 31, 32], [40, 41, 42, 43])).ToList();
        var heldOut = new[] { TinyData.Example([30, 31, 32], [40, 41, 42, 43]) };
        var trainer = new SftTrainer(new SftOptions { Epochs = 10, BatchSize = 4, LearningRate = 3e-3, Packing = true, EvalSteps = 4 });
        var before = trainer.HeldOutLoss(model, heldOut, TinyData.Pad);
        var reports = new List<StageProgress>();
        var result = trainer.Train(model, train, heldOut, TinyData.Pad, new SyncProgress<StageProgress>(reports.Add));
        Assert.Equal(20, result.Steps);
        Assert.Equal(20, reports.Count);
        Assert.Equal(20, reports[^1].Step);
        Assert.Equal(20, reports[^1].Total);
        Assert.True(result.HeldOutLoss < before / 2, $"held-out loss {result.HeldOutLoss} should halve from {before}");
        Assert.True(result.TrainLoss < result.LossHistory[0], $"train loss {result.TrainLoss} should fall from {result.LossHistory[0]}");
        Assert.True(result.TokensPerSecond > 0);
        Assert.Contains(4, result.HeldOutByStep.Keys);
        Assert.Contains(20, result.HeldOutByStep.Keys);
        Assert.Equal(result.HeldOutLoss, result.Metrics()["eval/loss"]);
    }

    [Theory]
    [InlineData(LearningRateScheduleKind.Cosine)]
    [InlineData(LearningRateScheduleKind.WarmupStableDecay)]
    public void Train_Schedule_StepsFollowWarmupThenDecay(LearningRateScheduleKind kind)
    {
        using var model = TinyData.Model(12);
        var options = new SftOptions { Epochs = 1, BatchSize = 1, LearningRate = 1e-3, WarmupRatio = 0.2, LrScheduler = kind, WsdDecayFraction = 0.4 };
        var reports = new List<StageProgress>();
        new SftTrainer(options).Train(model, TinyData.Examples(10, seed: 12), null, TinyData.Pad, new SyncProgress<StageProgress>(reports.Add));
        var expected = new LearningRateSchedule { Kind = kind, PeakLearningRate = 1e-3, WarmupSteps = 2, TotalSteps = 10, MinRatio = 0.1, DecayFraction = 0.4 };
        for (var i = 0; i < 10; i++) Assert.Equal(expected.At(i), reports[i].Metrics["learning_rate"], 12);
        Assert.Equal(5e-4, reports[0].Metrics["learning_rate"], 12); // warmup from peak / 2
        Assert.Equal(1e-4, reports[^1].Metrics["learning_rate"], 12); // ends at 10% of the peak
    }

    [Fact]
    public void Pack_ExampleLongerThanBlock_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenBatch.PackRows([4, 9, 2], 8));
        Assert.Contains("example 1 has 9 tokens", e.Message);
        Assert.Equal([[0], [1]], TokenBatch.PackRows([4, 5], 8).Select(r => r.ToArray()));
    }

    [Fact]
    public void Train_ExampleWithoutResponse_ThrowsNamingIt()
    {
        using var model = TinyData.Model();
        var bad = new ChatEncoding([1, 2, 3], [true, true, true], 3);
        var e = Assert.Throws<ArgumentException>(() => new SftTrainer(new SftOptions()).Train(model, [TinyData.Example([30], [40]), bad], null, TinyData.Pad));
        Assert.Contains("train example 1", e.Message);
    }

    [Fact]
    public void Options_BadValue_ThrowsWithFieldAndValue()
    {
        var e = Assert.Throws<ArgumentException>(() => new SftTrainer(new SftOptions { BatchSize = 0 }));
        Assert.Contains("BatchSize is 0", e.Message);
    }
}

/// <summary>Progress&lt;T&gt; posts to the thread pool; tests need reports in order, on the calling thread.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
