using PostTrain.Model;
using PostTrain.Trainers.Dpo;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Tests.Dpo;

public class DpoTrainerTests
{
    private static ReferenceLogProbs Reference(LlamaForCausalLM model, IReadOnlyList<PreferenceEncoding> pairs, bool mask = true) =>
        ReferenceLogProbs.Compute(model, pairs, "dataset", "ref", mask, model.Config.MaxPositionEmbeddings, 4, TinyData.Pad);

    /// <summary>Gradient of the whole DPO loss (NLL term included) wrt the logits of each concatenated row.</summary>
    private static Tensor LogitGradient(bool maskFormatting, IReadOnlyList<PreferenceEncoding> pairs, LlamaForCausalLM model)
    {
        var options = new DpoOptions { MaskFormattingTokens = maskFormatting, NllWeight = 0.2 };
        var rows = pairs.Select((p, i) => ConcatenatedForward.Rows(p, maskFormatting, 128, i)).ToList();
        using var batch = TokenBatch.Pad(rows.Select(r => r.Chosen).Concat(rows.Select(r => r.Rejected)).ToList(), TinyData.Pad);
        var logits = batch.Forward(model).detach().requires_grad_(true); // (2B, T, V)
        var (sum, count) = SequenceLogProbs.Compute(logits, batch.Targets);
        var B = pairs.Count;
        var (losses, _, _) = DpoLoss.Compute(sum[..B], sum[B..], full(B, -20f), full(B, -20f), options.LossType, options.Beta);
        var loss = losses.mean() + options.NllWeight * (-sum[..B].sum() / count[..B].sum());
        loss.backward();
        return logits.grad!;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reference_OnTheCpuForward_EqualsTheBatchedForward(bool mask)
    {
        using var model = TinyData.Model(5);
        var pairs = TinyData.Pairs(7, seed: 3);
        var cached = Reference(model, pairs, mask);
        Assert.Equal(1, cached.ForwardPasses);
        using var _ = no_grad();
        var rows = pairs.Select((p, i) => ConcatenatedForward.Rows(p, mask, model.Config.MaxPositionEmbeddings, i)).ToList();
        var (chosen, rejected, _) = ConcatenatedForward.LogProbs(model, rows, TinyData.Pad, CPU);
        for (var i = 0; i < pairs.Count; i++)
        {
            Assert.Equal(chosen[i].item<float>(), cached.Chosen[i], 3);
            Assert.Equal(rejected[i].item<float>(), cached.Rejected[i], 3);
        }
    }

    [Fact]
    public void Loss_FormattingMasked_FormattingTokensGetNoGradient()
    {
        using var scope = NewDisposeScope();
        using var model = TinyData.Model(5);
        var pairs = TinyData.Pairs(2, seed: 5);
        var masked = LogitGradient(true, pairs, model);
        var unmasked = LogitGradient(false, pairs, model);
        var B = pairs.Count;
        for (var row = 0; row < 2 * B; row++)
        {
            var e = row < B ? pairs[row].Chosen : pairs[row - B].Rejected;
            // The eot after the response is the one formatting token inside the scored span; logits at Length−2 predict it.
            Assert.True(e.IsFormatting[^1]);
            Assert.Equal(0f, masked[row, e.Length - 2].abs().max().item<float>());
            Assert.True(unmasked[row, e.Length - 2].abs().max().item<float>() > 0, "without masking the eot is scored");
            Assert.True(masked[row, e.PromptLength - 1].abs().max().item<float>() > 0, "the first response token is scored");
        }
    }

    [Fact]
    public void ReferenceLogProbs_FormattingMasked_ChangingFormattingTokenLogitsChangesNothing()
    {
        using var scope = NewDisposeScope();
        var pair = TinyData.Pairs(1, seed: 6)[0];
        var row = ConcatenatedForward.Rows(pair, maskFormatting: true, 128, 0).Chosen;
        var logits = randn(1, row.Ids.Length, 384);
        var targets = tensor(row.Targets.Select(t => (long)t).ToArray()).unsqueeze(0);
        var changed = logits.clone();
        changed[0, pair.Chosen.Length - 2] = randn(384) * 10; // the logits that score the final eot
        Assert.Equal(SequenceLogProbs.Compute(logits, targets).Sum.item<float>(), SequenceLogProbs.Compute(changed, targets).Sum.item<float>());

        var unmasked = tensor(ConcatenatedForward.Rows(pair, false, 128, 0).Chosen.Targets.Select(t => (long)t).ToArray()).unsqueeze(0);
        Assert.NotEqual(SequenceLogProbs.Compute(logits, unmasked).Sum.item<float>(), SequenceLogProbs.Compute(changed, unmasked).Sum.item<float>());
    }

    [Fact]
    public void ConcatenatedForward_OnePass_EqualsSeparateForwards()
    {
        using var scope = NewDisposeScope();
        using var model = TinyData.Model(7);
        var pairs = TinyData.Pairs(3, seed: 7);
        using var _ = no_grad();
        var rows = pairs.Select((p, i) => ConcatenatedForward.Rows(p, true, 128, i)).ToList();
        var (c, r, _) = ConcatenatedForward.LogProbs(model, rows, TinyData.Pad, CPU);
        for (var i = 0; i < pairs.Count; i++)
        {
            using var alone = TokenBatch.Pad([rows[i].Rejected], TinyData.Pad);
            var single = SequenceLogProbs.Compute(alone.Forward(model), alone.Targets).Sum.item<float>();
            Assert.Equal(single, r[i].item<float>(), 3);
        }
        Assert.Equal([3L], c.shape);
    }

    [Fact]
    public void ReferenceLogProbs_PolicyEqualsReference_FirstLossIsLn2()
    {
        using var model = TinyData.Model(8);
        var pairs = TinyData.Pairs(4, seed: 8);
        var reference = Reference(model, pairs);
        using var scope = NewDisposeScope();
        var trainer = new DpoTrainer(new DpoOptions { NllWeight = 0 });
        using var _ = no_grad();
        var r = trainer.BatchLoss(model, pairs, tensor(reference.Chosen.Select(v => (float)v).ToArray()),
            tensor(reference.Rejected.Select(v => (float)v).ToArray()), TinyData.Pad);
        Assert.Equal(Math.Log(2), r.Loss.item<float>(), 5);
    }

    [Fact]
    public void LoadOrCompute_EpochsAndVariants_ComputesReferenceOnce()
    {
        var dir = Directory.CreateTempSubdirectory("dpo-ref-").FullName;
        try
        {
            var dataset = Path.Combine(dir, "pairs.jsonl");
            File.WriteAllText(dataset, "{}");
            var pairs = TinyData.Pairs(6, seed: 9);
            var loads = 0;
            var reference = TinyData.Model(9);
            LlamaForCausalLM Load() { loads++; return reference; }
            var results = new List<DpoResult>();
            foreach (var variant in new[] { new DpoOptions { Beta = 0.1, Epochs = 2, BatchSize = 3 }, new DpoOptions { Beta = 0.3, LossType = DpoLossType.Ipo, Epochs = 2, BatchSize = 3 } })
            {
                using var policy = TinyData.Model(9);
                var trainer = new DpoTrainer(variant);
                var cache = ReferenceLogProbs.LoadOrCompute(dataset, "sha-of-dataset", "sha-of-reference", Load, pairs,
                    variant.MaskFormattingTokens, trainer.MaxLengthFor(policy.Config), 4, TinyData.Pad);
                results.Add(trainer.Train(policy, pairs, cache, TinyData.Pad));
            }
            Assert.Equal(1, loads);
            Assert.Equal(1, results[0].ReferenceForwardPasses); // once: one CPU forward call holds all twelve sequences
            Assert.Equal(0, results[1].ReferenceForwardPasses);
            Assert.Equal(4, results[0].Steps);
            Assert.True(File.Exists(ReferenceLogProbs.CachePath(dataset, "sha-of-reference", true, 128)));

            // Another dataset hash at the same path is not reused.
            ReferenceLogProbs.LoadOrCompute(dataset, "another-dataset", "sha-of-reference", Load, pairs, true, 128, 4, TinyData.Pad);
            Assert.Equal(2, loads);
            reference.Dispose();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Train_FewSteps_RaisesRewardAccuracy()
    {
        using var model = TinyData.Model(10);
        var pairs = TinyData.Pairs(8, seed: 10);
        var reference = Reference(model, pairs);
        var trainer = new DpoTrainer(new DpoOptions { Epochs = 6, BatchSize = 4, LearningRate = 2e-3, Beta = 0.1 });
        var result = trainer.Train(model, pairs, reference, TinyData.Pad);
        var first = result.History[0];
        Assert.Equal(0.0, first[DpoTrainer.RewardsMargins], 4); // policy = reference before the first step
        Assert.True(result.Metrics[DpoTrainer.RewardsAccuracies] >= 0.99, $"accuracy {result.Metrics[DpoTrainer.RewardsAccuracies]}");
        Assert.True(result.Metrics[DpoTrainer.RewardsMargins] > 0.1, $"margin {result.Metrics[DpoTrainer.RewardsMargins]}");
        Assert.True(result.Metrics[DpoTrainer.Loss] < first[DpoTrainer.Loss]);
        foreach (var name in new[] { DpoTrainer.Loss, DpoTrainer.RewardsChosen, DpoTrainer.RewardsRejected, DpoTrainer.RewardsAccuracies,
                     DpoTrainer.RewardsMargins, DpoTrainer.LogpsChosen, DpoTrainer.LogpsRejected })
            Assert.True(result.Metrics.ContainsKey(name), name);
    }

    [Fact]
    public void Train_ReferenceOfOtherMasking_Throws()
    {
        using var model = TinyData.Model(11);
        var pairs = TinyData.Pairs(2, seed: 11);
        var reference = Reference(model, pairs, mask: false);
        var e = Assert.Throws<ArgumentException>(() => new DpoTrainer(new DpoOptions()).Train(model, pairs, reference, TinyData.Pad));
        Assert.Contains("formatting masked", e.Message);
    }
}
