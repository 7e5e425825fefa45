using PostTrain.Model;
using PostTrain.Core.Progress;
using PostTrain.Model.Tokenization;
using static TorchSharp.torch;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.RewardModel.Tests;

public class RewardModelTests
{
    internal static RM TinyRewardModel(int seed = 1, ITokenizer? tokenizer = null, double likelihoodWeight = 0)
    {
        manual_seed(seed);
        var policy = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        return new RM(policy, tokenizer, likelihoodWeight: likelihoodWeight);
    }

    [Fact]
    public void Loss_NoMarginNoCentering_EqualsClosedForm()
    {
        using var rc = tensor(new[] { 1.0f, 0.0f });
        using var rr = tensor(new[] { 0.0f, 0.5f });
        var (loss, terms) = RewardModelTrainer.Loss(rc, rr);
        // -log σ(1) = log(1 + e^-1) = 0.3132617; -log σ(-0.5) = log(1 + e^0.5) = 0.9740770.
        Assert.Equal(0.3132617, terms[0].item<float>(), 5);
        Assert.Equal(0.9740770, terms[1].item<float>(), 5);
        Assert.Equal(0.6436693, loss.item<float>(), 5);
    }

    [Fact]
    public void Loss_WithMargin_SubtractsMarginInsideSigmoid()
    {
        using var rc = tensor(new[] { 1.0f, 0.0f });
        using var rr = tensor(new[] { 0.0f, 0.5f });
        using var m = tensor(new[] { 0.5f, 1.0f });
        var (loss, terms) = RewardModelTrainer.Loss(rc, rr, m);
        // log(1 + e^-0.5) = 0.4740770; log(1 + e^1.5) = 1.7014133.
        Assert.Equal(0.4740770, terms[0].item<float>(), 5);
        Assert.Equal(1.7014133, terms[1].item<float>(), 5);
        Assert.Equal(1.0877451, loss.item<float>(), 5);
    }

    [Fact]
    public void Loss_WithCentering_AddsSquaredSum()
    {
        using var rc = tensor(new[] { 1.0f, 0.0f });
        using var rr = tensor(new[] { 0.0f, 0.5f });
        var (loss, terms) = RewardModelTrainer.Loss(rc, rr, null, 0.01);
        // + 0.01·(1 + 0)² = 0.01 and + 0.01·(0 + 0.5)² = 0.0025.
        Assert.Equal(0.3232617, terms[0].item<float>(), 5);
        Assert.Equal(0.9765770, terms[1].item<float>(), 5);
        Assert.Equal(0.6499193, loss.item<float>(), 5);
    }

    [Fact]
    public void Loss_WithMarginAndCentering_EqualsClosedForm()
    {
        using var rc = tensor(new[] { 1.0f, 0.0f });
        using var rr = tensor(new[] { 0.0f, 0.5f });
        using var m = tensor(new[] { 0.5f, 1.0f });
        var (loss, _) = RewardModelTrainer.Loss(rc, rr, m, 0.01);
        Assert.Equal(1.0939951, loss.item<float>(), 5);
    }

    [Fact]
    public void Loss_MismatchedShapes_ErrorNamesShapes()
    {
        using var rc = zeros(3);
        using var rr = zeros(2);
        var e = Assert.Throws<ArgumentException>(() => RewardModelTrainer.Loss(rc, rr));
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[2]", e.Message);
    }

    [Fact]
    public void FromRanking_ThreeResponses_AllOrderedPairs()
    {
        int[] edited = [1], chosen = [2], rejected = [3];
        var pairs = RewardComparison.FromRanking([edited, chosen, rejected], 0.5f);
        Assert.Equal(3, pairs.Count);
        Assert.Equal([(1, 2), (1, 3), (2, 3)], pairs.Select(p => (p.Chosen[0], p.Rejected[0])).ToArray());
        Assert.All(pairs, p => Assert.Equal(0.5f, p.Margin));
        Assert.Equal(6, RewardComparison.FromRanking([[1], [2], [3], [4]]).Count);
        Assert.Throws<ArgumentException>(() => RewardComparison.FromRanking([[1]]));
    }

    [Fact]
    public void Score_BatchSizeOneOrMany_SameRewards()
    {
        using var rm = TinyRewardModel(3);
        int[][] seqs = [[1, 2, 3, 4, 5, 6, 7], [8, 9], [10, 11, 12, 13], [14]];
        var one = rm.Score(seqs, batchSize: 1);
        var all = rm.Score(seqs, batchSize: 16);
        for (var i = 0; i < seqs.Length; i++) Assert.Equal(one[i], all[i], 4);
        Assert.NotEqual(one[0], one[1]);
    }

    [Fact]
    public void Score_OnTheCpuForward_EqualsTheReferenceForward_OverManyGroupsAndPads()
    {
        manual_seed(8);
        var policy = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        using (no_grad())
            foreach (var (name, p) in policy.named_parameters())
                if (!name.Contains("norm", StringComparison.Ordinal)) p.normal_(0, 0.2); // logits far from uniform
        using var rm = new RM(policy, likelihoodWeight: 0.7) { PadTokenId = 3 };
        var rnd = new Random(2);
        // 300 sequences, about 3,000 tokens: more than one call's 1,024 rows. Some end in pads (token 3), read before them.
        var seqs = Enumerable.Range(0, 300).Select(i => Enumerable.Range(0, 2 + rnd.Next(19)).Select(t => i % 7 == 0 && t > 4 ? 3 : rnd.Next(4, 60)).ToArray()).ToArray();
        var starts = seqs.Select(s => 1 + rnd.Next(s.Length - 1)).ToArray();
        var actual = rm.Score(seqs, starts);
        using var _ = no_grad();
        for (var i = 0; i < seqs.Length; i += 13)
        {
            using var scope = NewDisposeScope();
            var (ids, lengths) = RM.Collate([seqs[i]], rm.Config.MaxPositionEmbeddings, rm.Device);
            var expected = rm.forward(ids, lengths, tensor(new long[] { starts[i] })).item<float>();
            Assert.True(Math.Abs(expected - actual[i]) < 1e-4 * Math.Max(1, Math.Abs(expected)), $"sequence {i}: {actual[i]} against {expected}");
        }
    }

    [Fact]
    public void Score_ReadsLastRealToken_EqualsHeadOnFullForward()
    {
        using var rm = TinyRewardModel(4);
        int[] seq = [5, 6, 7, 8];
        using var _ = no_grad();
        using var h = rm.model.forward(tensor(seq.Select(x => (long)x).ToArray()).unsqueeze(0)); // (1, T, C)
        var expected = rm.score.forward(h[0, -1]).item<float>();
        Assert.Equal(expected, rm.Score([seq, [1, 2, 3, 4, 5, 6, 7, 8, 9]])[0], 4);
    }

    [Fact]
    public void Score_LikelihoodWeight_AddsResponseLogProbOfTheBackbone()
    {
        using var rm = TinyRewardModel(15, likelihoodWeight: 0.5);
        int[] a = [5, 6, 7, 8, 9], b = [5, 6, 7];
        double Expected(int[] seq, int start)
        {
            using var _ = no_grad();
            using var x = tensor(seq.Select(v => (long)v).ToArray()).unsqueeze(0);
            using var h = rm.model.forward(x);
            using var logp = nn.functional.log_softmax(rm.Backbone.forward(x)[0], -1);
            double lp = 0;
            for (var t = start; t < seq.Length; t++) lp += logp[t - 1, seq[t]].item<float>(); // id t predicted at t - 1
            return rm.score.forward(h[0, -1]).item<float>() + 0.5 * lp;
        }
        // Ragged: b is right-padded in the batch, and its pads must not count as response ids.
        var scores = rm.Score([a, b], [3, 1]);
        Assert.Equal(Expected(a, 3), scores[0], 4);
        Assert.Equal(Expected(b, 1), scores[1], 4);

        var e = Assert.Throws<ArgumentException>(() => rm.Score([a]));
        Assert.Contains("likelihood_weight", e.Message);
        Assert.Throws<ArgumentException>(() => rm.Score([a], [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TinyRewardModel(1, likelihoodWeight: -1));
    }

    [Fact]
    public void Train_LikelihoodWeight_ComparisonWithoutResponseStart_ClearError()
    {
        using var rm = TinyRewardModel(16, likelihoodWeight: 1);
        var e = Assert.Throws<ArgumentException>(() => new RewardModelTrainer(rm, new RewardModelOptions()).Train([new RewardComparison([1, 2, 3], [1, 2, 4], ResponseStart: 2), new RewardComparison([1, 2], [1, 3])]));
        Assert.Contains("comparison 1 does not say where its response starts", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Train_SeparableToySet_RaisesPairwiseAccuracy(double likelihoodWeight)
    {
        // Chosen responses end in a token from {20..24}, rejected ones in {40..44}: a head on the last token separates them.
        var rng = new Random(5);
        RewardComparison Make()
        {
            var prompt = Enumerable.Range(0, rng.Next(2, 8)).Select(_ => rng.Next(60, 300)).ToArray();
            var body = Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(60, 300)).ToArray();
            return new RewardComparison([.. prompt, .. body, 20 + rng.Next(5)], [.. prompt, .. body, 40 + rng.Next(5)], ResponseStart: prompt.Length);
        }
        var train = Enumerable.Range(0, 48).Select(_ => Make()).ToArray();
        var heldOut = Enumerable.Range(0, 24).Select(_ => Make()).ToArray();
        using var rm = TinyRewardModel(6, likelihoodWeight: likelihoodWeight);
        var reports = new List<StageProgress>();
        var trainer = new RewardModelTrainer(rm, new RewardModelOptions { LearningRate = 2e-3, BatchSize = 8, Epochs = 2, LogEvery = 3 });
        var metrics = trainer.Train(train, heldOut, new SyncProgress(reports.Add));

        Assert.True(metrics.InitialHeldOutAccuracy < 0.9, $"initial held-out accuracy {metrics.InitialHeldOutAccuracy}, expected < 0.9 before training");
        Assert.True(metrics.HeldOutAccuracy >= 0.95, $"held-out accuracy {metrics.HeldOutAccuracy}, expected >= 0.95");
        Assert.True(metrics.TrainAccuracy >= 0.95, $"train accuracy {metrics.TrainAccuracy}, expected >= 0.95");
        Assert.True(metrics.MeanMargin > 0, $"mean margin {metrics.MeanMargin}, expected > 0");
        Assert.Equal(12, metrics.Steps);
        Assert.NotEmpty(reports);
        Assert.Equal(12, reports[^1].Step);
        Assert.True(reports[^1].Metrics["loss"] < reports[0].Metrics["loss"], "loss should fall");
    }

    [Fact]
    public void ChosenTargets_ResponseIdsOnly_PromptAndPaddingIgnored()
    {
        var targets = RewardModelTrainer.ChosenTargets([new RewardComparison([1, 2, 3, 4, 5], [1, 2, 3, 9], ResponseStart: 3), new RewardComparison([1, 2], [1, 3])], 6);
        // Row 0: positions 2 and 3 predict the response ids 4 and 5; row 1 does not know its response start.
        Assert.Equal([-100L, -100, 4, 5, -100, -100, -100, -100, -100, -100, -100, -100], targets!);
        Assert.Null(RewardModelTrainer.ChosenTargets([new RewardComparison([1, 2], [1, 3])], 2));
    }

    [Fact]
    public void Train_LanguageModelingWeight_TeachesTheBackboneTheChosenResponses()
    {
        // Every chosen response is 7 8 9 after a random prompt: only the LM term can teach the backbone to predict it,
        // since the Bradley–Terry loss reads one hidden state and can be satisfied by the head alone.
        var rng = new Random(8);
        RewardComparison Make()
        {
            var prompt = Enumerable.Range(0, rng.Next(2, 8)).Select(_ => rng.Next(60, 300)).ToArray();
            return new RewardComparison([.. prompt, 7, 8, 9], [.. prompt, 40 + rng.Next(5), 41, 42], ResponseStart: prompt.Length);
        }
        var train = Enumerable.Range(0, 48).Select(_ => Make()).ToArray();
        var probe = Enumerable.Range(0, 8).Select(_ => Make()).ToArray();

        double ChosenNll(RM rm)
        {
            using var _ = no_grad();
            double nll = 0;
            foreach (var c in probe)
            {
                using var logits = rm.Backbone.forward(tensor(c.Chosen.Select(x => (long)x).ToArray()).unsqueeze(0));
                using var logp = nn.functional.log_softmax(logits[0], -1);
                for (var t = c.ResponseStart - 1; t + 1 < c.Chosen.Length; t++) nll -= logp[t, c.Chosen[t + 1]].item<float>();
            }
            return nll / probe.Length;
        }
        double Trained(double weight, List<StageProgress> reports)
        {
            using var rm = TinyRewardModel(9);
            new RewardModelTrainer(rm, new RewardModelOptions { LearningRate = 3e-3, BatchSize = 8, Epochs = 4, LogEvery = 6, LanguageModelingWeight = weight })
                .Train(train, [], new SyncProgress(reports.Add));
            return ChosenNll(rm);
        }
        List<StageProgress> without = [], with = [];
        var nllWithout = Trained(0, without);
        var nllWith = Trained(1, with);

        Assert.True(nllWith < 0.4 * nllWithout, $"chosen-response NLL {nllWith:F3} with the LM term, {nllWithout:F3} without; expected < 40%");
        Assert.DoesNotContain(without, r => r.Metrics.ContainsKey("lm_loss"));
        Assert.True(with[^1].Metrics["lm_loss"] < with[0].Metrics["lm_loss"], "the LM term should fall");
        Assert.Throws<ArgumentException>(() => new RewardModelOptions { LanguageModelingWeight = -1 }.Validate());
    }

    [Fact]
    public void StateDict_HuggingFaceSequenceClassificationNames_NoLmHead()
    {
        using var rm = TinyRewardModel(14);
        var keys = rm.state_dict().Keys.ToList();
        Assert.Contains("score.weight", keys);
        Assert.Contains("model.embed_tokens.weight", keys);
        Assert.Contains("model.layers.1.mlp.down_proj.weight", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("lm_head", StringComparison.Ordinal));
        Assert.Equal([1L, rm.Config.HiddenSize], rm.score.weight!.shape);
    }

    [Fact]
    public void Options_BadValue_ErrorNamesOption()
    {
        var e = Assert.Throws<ArgumentException>(() => new RewardModelOptions { BatchSize = 0 }.Validate());
        Assert.Contains("BatchSize is 0", e.Message);
    }

    [Fact]
    public void Schedule_WarmupThenCosineToMinRatio()
    {
        var o = new RewardModelOptions { LearningRate = 1.0, WarmupRatio = 0.1, MinLearningRateRatio = 0.1 };
        var schedule = RewardModelTrainer.Schedule(o, 100);
        Assert.Equal(0.1, schedule.At(0), 6);
        Assert.Equal(1.0, schedule.At(10), 6);
        Assert.Equal(0.1, schedule.At(99), 6);
    }

    internal sealed class SyncProgress(Action<StageProgress> report) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => report(value);
    }
}
