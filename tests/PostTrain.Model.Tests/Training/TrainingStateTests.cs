using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tests.Checkpoints;
using PostTrain.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Training;

/// <summary>These tests train the tiny preset on random token batches drawn from libtorch's RNG, so a resume must restore the RNG too.</summary>
[Collection(nameof(NativeTensorCounting))]
public class TrainingStateTests
{
    private static readonly LearningRateSchedule Schedule = LearningRateSchedule.Cosine(3e-3, warmupSteps: 2, totalSteps: 8);

    private static LlamaForCausalLM NewModel() => new(LlamaConfig.Preset("tiny"));

    private static AdamW NewOptimizer(LlamaForCausalLM model) =>
        optim.AdamW(model.parameters(), lr: Schedule.PeakLearningRate, beta1: 0.9, beta2: 0.95, weight_decay: 0.1);

    /// <summary>One step: random (2, 16) batch, next-token loss, backward, AdamW at the scheduled rate. All temporaries die in the scope.</summary>
    internal static float TrainStep(LlamaForCausalLM model, AdamW opt, long step)
    {
        using var scope = NewDisposeScope();
        foreach (var g in opt.ParamGroups) g.LearningRate = Schedule.At(step);
        var ids = randint(0, model.Config.VocabSize, [2, 17], dtype: ScalarType.Int64);
        var logits = model.forward(ids[.., ..16]);
        var loss = nn.functional.cross_entropy(logits.reshape(-1, model.Config.VocabSize), ids[.., 1..].reshape(-1));
        opt.zero_grad();
        loss.backward();
        opt.step();
        return loss.item<float>();
    }

    private static void AssertSameWeights(LlamaForCausalLM expected, LlamaForCausalLM actual, bool same)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        var equal = a.All(kv => kv.Value.equal(b[kv.Key]).all().item<bool>());
        Assert.True(equal == same, same ? "resumed weights differ from the unbroken run" : "weights unexpectedly identical");
    }

    [Fact]
    public void Resume_HalfStepsSaveLoadHalf_BitwiseEqualToStraightRun()
    {
        using var dir = new TempDir();
        const int N = 6;

        Determinism.Seed(5);
        using var straight = NewModel();
        using (var opt = NewOptimizer(straight))
            for (var s = 0; s < N; s++) TrainStep(straight, opt, s);

        Determinism.Seed(5);
        using (var first = NewModel())
        using (var opt = NewOptimizer(first))
        {
            for (var s = 0; s < N / 2; s++) TrainStep(first, opt, s);
            Checkpoint.Save(dir["ck"], first);
            new TrainingState(Step: N / 2, DataPosition: 123).Save(dir["state"], first, opt);
        }

        randn(100).Dispose(); // disturb the RNG: the resume must restore it
        var loaded = Checkpoint.Load(dir["ck"]);
        using var resumed = loaded.Model;
        using var opt2 = NewOptimizer(resumed);
        var state = TrainingState.Load(dir["state"], resumed, opt2);
        Assert.Equal(N / 2, state.Step);
        Assert.Equal(123, state.DataPosition);
        for (var s = state.Step; s < N; s++) TrainStep(resumed, opt2, s);
        AssertSameWeights(straight, resumed, same: true);

        // Control: the same resume without the optimizer state ends elsewhere, so the comparison above can fail.
        using var naive = Checkpoint.Load(dir["ck"]).Model;
        using var opt3 = NewOptimizer(naive);
        TrainingState.Load(dir["state"], naive, opt3);
        using var fresh = NewOptimizer(naive);
        for (var s = N / 2; s < N; s++) TrainStep(naive, fresh, s);
        AssertSameWeights(straight, naive, same: false);
    }

    [Fact]
    public void Load_MomentsForOtherModel_ThrowsNamingTensorAndShape()
    {
        using var dir = new TempDir();
        Determinism.Seed(1);
        using (var model = NewModel())
        using (var opt = NewOptimizer(model))
        {
            TrainStep(model, opt, 0);
            new TrainingState(1, 0).Save(dir["state"], model, opt);
        }
        using var other = new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { IntermediateSize = 160 });
        using var opt2 = optim.AdamW(other.parameters());
        var e = Assert.Throws<InvalidDataException>(() => TrainingState.Load(dir["state"], other, opt2));
        Assert.Contains("optimizer.safetensors", e.Message);
        Assert.Contains("'exp_avg.model.layers.0.mlp.gate_proj.weight' has shape [176, 64], expected [160, 64]", e.Message);
    }
}
