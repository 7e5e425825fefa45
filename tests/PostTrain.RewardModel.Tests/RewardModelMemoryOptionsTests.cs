using static TorchSharp.torch;

namespace PostTrain.RewardModel.Tests;

/// <summary>LoRA and gradient accumulation in the reward model's training.</summary>
public class RewardModelMemoryOptionsTests
{
    private static RewardComparison[] Comparisons(int count, int seed)
    {
        // Chosen responses end in a token from {20..24}, rejected ones in {40..44}.
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var prompt = Enumerable.Range(0, rng.Next(2, 8)).Select(_ => rng.Next(60, 300)).ToArray();
            var body = Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(60, 300)).ToArray();
            return new RewardComparison([.. prompt, .. body, 20 + rng.Next(5)], [.. prompt, .. body, 40 + rng.Next(5)], ResponseStart: prompt.Length);
        }).ToArray();
    }

    [Fact]
    public void Train_GradientAccumulation_SameWeightsAsOneBatch()
    {
        var train = Comparisons(16, 3);
        var options = new RewardModelOptions { LearningRate = 1e-3, BatchSize = 8, HeldOutFraction = 0, LogEvery = 1 };
        using var whole = RewardModelTests.TinyRewardModel(7, likelihoodWeight: 0.5);
        using var split = RewardModelTests.TinyRewardModel(7, likelihoodWeight: 0.5);
        new RewardModelTrainer(whole, options).Train(train, []);
        new RewardModelTrainer(split, options with { GradientAccumulationSteps = 4 }).Train(train, []);
        using var _ = no_grad();
        var b = split.state_dict();
        foreach (var (name, t) in whole.state_dict())
            Assert.True((t - b[name]).abs().max().item<float>() <= 1e-4 * (t.abs().max().item<float>() + 1e-6), name);
    }

    [Fact]
    public void Train_Lora_LearnsWithTheBackboneFrozenThenMerged()
    {
        var train = Comparisons(48, 5);
        var heldOut = Comparisons(24, 6);
        using var rm = RewardModelTests.TinyRewardModel(6);
        var embedding = rm.model.embed_tokens.weight!.detach().clone();
        var norm = rm.model.norm.weight!.detach().clone();
        var q = rm.model.layers[0].self_attn.q_proj.weight!.detach().clone();
        var metrics = new RewardModelTrainer(rm, new RewardModelOptions { LearningRate = 3e-3, BatchSize = 8, Epochs = 3, LoraRank = 4, LoraTargets = "q_proj,v_proj,up_proj" })
            .Train(train, heldOut);
        Assert.True(metrics.HeldOutAccuracy >= 0.9, $"held-out accuracy {metrics.HeldOutAccuracy}");
        Assert.True(rm.model.embed_tokens.weight!.equal(embedding).all().item<bool>(), "the embedding is frozen");
        Assert.True(rm.model.norm.weight!.equal(norm).all().item<bool>(), "norms are frozen");
        Assert.False(rm.model.layers[0].self_attn.q_proj.weight!.equal(q).all().item<bool>(), "the merged adapter changed q_proj");
    }
}
