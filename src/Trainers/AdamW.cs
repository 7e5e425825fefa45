using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Trainers;

/// <summary>The optimizer both trainers use, with the per-step learning rate set from a LearningRateSchedule.</summary>
internal static class AdamW
{
    public static OptimizerHelper Create(nn.Module model, double lr, double beta1, double beta2, double eps, double weightDecay) =>
        torch.optim.AdamW(model.parameters(), lr, beta1, beta2, eps, weightDecay);

    public static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    /// <summary>Clips the global gradient norm when <paramref name="maxNorm"/> &gt; 0; returns the norm before clipping.</summary>
    public static double ClipGradients(nn.Module model, double maxNorm)
    {
        if (maxNorm <= 0) return double.NaN;
        return nn.utils.clip_grad_norm_(model.parameters(), maxNorm);
    }
}
