using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Model.Training;

/// <summary>
/// The optimisation step every trainer takes (pretraining, the reward model, SFT and DPO): the learning rate of the step
/// from a <see cref="LearningRateSchedule"/>, gradients accumulated over micro-batches (each built, backpropagated and
/// released in its own dispose scope, so only one micro-batch's activations are alive at a time), global gradient-norm
/// clipping, then one AdamW step. Each trainer keeps its data order, forward, loss, metrics and progress; the step is the
/// part that must be the same everywhere, in the same order of operations, so results are comparable across trainers.
/// </summary>
public sealed class OptimizerStep(AdamW optimizer, IReadOnlyList<Parameter> clipped, double maxGradNorm, LearningRateSchedule schedule)
{
    /// <summary>The optimizer (its state is saved and restored with the training state).</summary>
    public AdamW Optimizer { get; } = optimizer;

    public LearningRateSchedule Schedule { get; } = schedule;

    /// <summary>Sets every param group's learning rate to the schedule's value at <paramref name="step"/> (0-based) and returns it.</summary>
    public double SetLearningRate(long step)
    {
        var lr = Schedule.At(step);
        foreach (var group in Optimizer.ParamGroups) group.LearningRate = lr;
        return lr;
    }

    /// <summary>
    /// One optimizer step over <paramref name="microBatches"/> losses, each already weighted by its share of the step:
    /// <paramref name="microLoss"/>(k) runs the forward and returns the loss to backpropagate, in its own dispose scope.
    /// Then the global gradient norm is clipped to the maximum (when it is &gt; 0) and AdamW steps. Returns the norm before
    /// clipping, NaN when clipping is off.
    /// </summary>
    public double Step(int microBatches, Func<int, Tensor> microLoss)
    {
        Optimizer.zero_grad();
        for (var k = 0; k < microBatches; k++)
        {
            using var scope = NewDisposeScope();
            microLoss(k).backward();
        }
        var gradNorm = maxGradNorm > 0 ? nn.utils.clip_grad_norm_(clipped, maxGradNorm) : double.NaN;
        Optimizer.step();
        return gradNorm;
    }
}
