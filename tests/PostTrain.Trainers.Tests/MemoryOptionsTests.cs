using PostTrain.Model;
using PostTrain.Trainers.Dpo;
using PostTrain.Trainers.Sft;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Tests;

/// <summary>Gradient accumulation gives the same update in micro-batches; LoRA trains adapters only and merges them.</summary>
public class MemoryOptionsTests
{
    private static double MaxRelativeDiff(LlamaForCausalLM a, LlamaForCausalLM b)
    {
        using var _ = no_grad();
        var sb = b.state_dict();
        return a.state_dict().Max(kv => ((kv.Value - sb[kv.Key]).abs().max() / (sb[kv.Key].abs().max() + 1e-8)).item<float>());
    }

    private static Dictionary<string, Tensor> Snapshot(LlamaForCausalLM m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [Fact]
    public void Sft_GradientAccumulation_SameUpdateAsOneBatch()
    {
        var examples = TinyData.Examples(12, seed: 3);
        var options = new SftOptions { BatchSize = 6, LearningRate = 1e-3, WarmupRatio = 0 };
        using var whole = TinyData.Model(4);
        using var split = TinyData.Model(4);
        var a = new SftTrainer(options).Train(whole, examples, null, TinyData.Pad);
        var b = new SftTrainer(options with { GradientAccumulationSteps = 3 }).Train(split, examples, null, TinyData.Pad);
        Assert.Equal(a.Steps, b.Steps);
        Assert.Equal(a.TrainLoss, b.TrainLoss, 4);
        var diff = MaxRelativeDiff(whole, split);
        Assert.True(diff < 1e-4, $"weights differ by {diff:E2} (relative)");
        using var untouched = TinyData.Model(4);
        Assert.True(MaxRelativeDiff(untouched, split) > 1e-3, "training must move the weights");
    }

    [Fact]
    public void Dpo_GradientAccumulation_SameUpdateAsOneBatch()
    {
        var pairs = TinyData.Pairs(8, seed: 2);
        var options = new DpoOptions { BatchSize = 4, LearningRate = 1e-3, WarmupRatio = 0, NllWeight = 0 };
        using var whole = TinyData.Model(6);
        using var split = TinyData.Model(6);
        var reference = ReferenceLogProbs.Compute(whole, pairs, "d", "r", true, 128, 4, TinyData.Pad);
        var a = new DpoTrainer(options).Train(whole, pairs, reference, TinyData.Pad);
        var b = new DpoTrainer(options with { GradientAccumulationSteps = 2 }).Train(split, pairs, reference, TinyData.Pad);
        Assert.Equal(a.Metrics[DpoTrainer.Loss], b.Metrics[DpoTrainer.Loss], 4);
        Assert.True(MaxRelativeDiff(whole, split) < 1e-4);
    }

    [Fact]
    public void Sft_Lora_TrainsAdaptersThenMergesOnlyIntoTargets()
    {
        var examples = TinyData.Examples(8, seed: 7);
        using var policy = TinyData.Model(8);
        var before = Snapshot(policy);
        var options = new SftOptions { BatchSize = 4, Epochs = 3, LearningRate = 1e-2, WarmupRatio = 0, LoraRank = 4, LoraAlpha = 8, LoraTargets = "q_proj,v_proj" };
        var result = new SftTrainer(options).Train(policy, examples, null, TinyData.Pad);
        Assert.True(result.LossHistory[^1] < result.LossHistory[0], "LoRA training must lower the loss");
        using var _ = no_grad();
        foreach (var (name, t) in policy.state_dict())
        {
            var changed = !t.equal(before[name]).all().item<bool>();
            var target = name.EndsWith("q_proj.weight", StringComparison.Ordinal) || name.EndsWith("v_proj.weight", StringComparison.Ordinal);
            Assert.True(changed == target, $"{name}: changed {changed}, a LoRA target {target}");
            if (target)
            {
                // A merged rank-4 update: W − W0 has rank at most 4.
                var delta = (t - before[name]).to_type(ScalarType.Float64);
                var singular = linalg.svdvals(delta);
                Assert.True(singular[4].item<double>() < 1e-5 * singular[0].item<double>(), $"{name}: update is not rank 4");
            }
        }
        Assert.All(policy.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void Dpo_Lora_ReferenceIsTheBaseAndTheLossFalls()
    {
        var pairs = TinyData.Pairs(8, seed: 9);
        using var policy = TinyData.Model(10);
        var reference = ReferenceLogProbs.Compute(policy, pairs, "d", "r", true, 128, 4, TinyData.Pad);
        var options = new DpoOptions { BatchSize = 4, Epochs = 4, LearningRate = 5e-3, WarmupRatio = 0, LoraRank = 4, GradientAccumulationSteps = 2 };
        var result = new DpoTrainer(options).Train(policy, pairs, reference, TinyData.Pad);
        // At step 1 the adapters are zero, so the policy is the reference and every reward is 0.
        Assert.Equal(0, result.History[0][DpoTrainer.RewardsChosen], 5);
        Assert.True(result.History[^1][DpoTrainer.Loss] < result.History[0][DpoTrainer.Loss]);
    }

    [Theory]
    [InlineData(0, "LoraTargets", "q_proj,lm_head")]
    [InlineData(1, "GradientAccumulationSteps", "0")]
    [InlineData(2, "LoraRank", "-1")]
    public void Options_BadMemoryOption_RefusedNamingIt(int which, string field, string value)
    {
        var bad = which switch
        {
            0 => new SftOptions { LoraTargets = value },
            1 => new SftOptions { GradientAccumulationSteps = int.Parse(value) },
            _ => new SftOptions { LoraRank = int.Parse(value) },
        };
        var e = Assert.Throws<ArgumentException>(() => bad.Validate());
        Assert.Contains($"SftOptions.{field}", e.Message);
    }
}
