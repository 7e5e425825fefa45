using PostTrain.Model.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Training;

[Collection(nameof(NativeTensorCounting))]
public class BoundedMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void TrainingSteps_InDisposeScope_LiveNativeTensorCountStaysFlat()
    {
        Determinism.Seed(2);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        using var opt = optim.AdamW(model.parameters(), lr: 1e-3);
        // Warm-up: the first step creates gradients and AdamW moments, which live as long as the model.
        for (var s = 0; s < 2; s++) TrainingStateTests.TrainStep(model, opt, s);
        // Per-thread statistics: finalizers of other tests' tensors run on the finalizer thread and cannot move this count.
        var stats = DisposeScopeManager.Statistics;
        var before = stats.ThreadTotalLiveCount;
        var globalBefore = Tensor.TotalCount;
        for (var s = 2; s < 12; s++) TrainingStateTests.TrainStep(model, opt, s);
        var after = stats.ThreadTotalLiveCount;
        output.WriteLine($"thread live tensors before {before}, after 10 steps {after}; process-wide {globalBefore} → {Tensor.TotalCount}");
        Assert.True(after == before, $"{after - before} native tensors leaked over 10 training steps ({before} → {after})");

        // Control: the same forward without a dispose scope leaks, so the count can move.
        var leaked = new List<Tensor>();
        for (var s = 0; s < 3; s++) leaked.Add(model.forward(randint(0, 384, [1, 8], dtype: ScalarType.Int64)));
        Assert.True(stats.ThreadTotalLiveCount > after, "counting must see tensors created outside a scope");
        foreach (var t in leaked) t.Dispose();
    }
}
