using PostTrain.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Trainers;

/// <summary>
/// The optimisation SFT and DPO share, built from <see cref="TrainerOptions"/>: seeding, the item order of each epoch,
/// AdamW with the learning rate set per step from a <see cref="LearningRateSchedule"/> (warmup, then cosine or WSD), and
/// global gradient-norm clipping. Each trainer keeps its own batches, loss and metrics.
/// </summary>
/// <remarks>Constructing it seeds torch and then the managed shuffle generator, in that order, so build it where the
/// trainer's random draws begin.</remarks>
internal sealed class TrainingLoop : IDisposable
{
    private readonly nn.Module _model;
    private readonly double _maxGradNorm;
    private readonly int _items;
    private readonly Random _rng;
    private readonly LearningRateSchedule _schedule;
    private readonly OptimizerHelper _optimizer;

    /// <param name="items">Training examples (SFT) or pairs (DPO); a step takes BatchSize of them, an epoch's last step the rest.</param>
    public TrainingLoop(nn.Module model, TrainerOptions options, int items)
    {
        _model = model;
        _maxGradNorm = options.MaxGradNorm;
        _items = items;
        Determinism.Seed(options.Seed);
        _rng = Determinism.ManagedRandom(options.Seed);
        var stepsPerEpoch = (items + options.BatchSize - 1) / options.BatchSize;
        TotalSteps = stepsPerEpoch * options.Epochs;
        _schedule = new LearningRateSchedule
        {
            Kind = options.LrScheduler,
            PeakLearningRate = options.LearningRate,
            WarmupSteps = (long)Math.Ceiling(options.WarmupRatio * TotalSteps),
            TotalSteps = TotalSteps,
            MinRatio = options.MinLearningRateRatio,
            DecayFraction = options.WsdDecayFraction,
        }.Validate();
        // One param group: decoupled weight decay applies to every parameter (TRL's default decay is 0 anyway).
        _optimizer = optim.AdamW(model.parameters(), options.LearningRate, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay);
    }

    /// <summary>Optimizer steps over all epochs: ceil(items / BatchSize) × Epochs.</summary>
    public int TotalSteps { get; }

    /// <summary>One epoch's item order: 0 … items − 1 shuffled by the seeded managed generator.</summary>
    public int[] ShuffledOrder()
    {
        var order = Enumerable.Range(0, _items).ToArray();
        _rng.Shuffle(order);
        return order;
    }

    /// <summary>Sets every param group's learning rate to the schedule's value at <paramref name="step"/> (0-based) and returns it.</summary>
    public double SetLearningRate(int step)
    {
        var lr = _schedule.At(step);
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = lr;
        return lr;
    }

    /// <summary>Backpropagates <paramref name="loss"/> and takes one AdamW step, first clipping the global gradient norm when
    /// MaxGradNorm &gt; 0. Returns the norm before clipping, NaN when clipping is off.</summary>
    public double Step(Tensor loss)
    {
        _optimizer.zero_grad();
        loss.backward();
        var gradNorm = _maxGradNorm > 0 ? nn.utils.clip_grad_norm_(_model.parameters(), _maxGradNorm) : double.NaN;
        _optimizer.step();
        return gradNorm;
    }

    public void Dispose() => _optimizer.Dispose();
}
