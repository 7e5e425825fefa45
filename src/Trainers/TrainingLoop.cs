using PostTrain.Model;
using PostTrain.Model.Lora;
using PostTrain.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PostTrain.Trainers;

/// <summary>
/// The optimisation SFT and DPO share, built from <see cref="TrainerOptions"/>: seeding, the item order of each epoch,
/// AdamW with the learning rate set per step from a <see cref="LearningRateSchedule"/> (warmup, then cosine or WSD), and
/// the <see cref="OptimizerStep"/> every trainer takes (gradient accumulation over micro-batches, global gradient-norm
/// clipping, the AdamW step), and LoRA adapters when the options ask for
/// them (only the adapters then reach the optimizer; <see cref="MergeAdapters"/> folds them into the policy at the end).
/// Each trainer keeps its own batches, loss and metrics.
/// </summary>
/// <remarks>Constructing it seeds torch and then the managed shuffle generator, in that order, so build it where the
/// trainer's random draws begin.</remarks>
internal sealed class TrainingLoop : IDisposable
{
    private readonly LoraAdapters? _adapters;
    private readonly int _items;
    private readonly Random _rng;
    private readonly OptimizerStep _step;

    /// <param name="items">Training examples (SFT) or pairs (DPO); a step takes BatchSize of them, an epoch's last step the rest.</param>
    public TrainingLoop(LlamaForCausalLM model, TrainerOptions options, int items)
    {
        _items = items;
        MicroBatches = options.GradientAccumulationSteps;
        Determinism.Seed(options.Seed);
        _rng = Determinism.ManagedRandom(options.Seed);
        // After seeding, so the adapters' initial A is reproducible.
        _adapters = options.Lora() is { } lora ? LoraAdapters.Attach(model, lora) : null;
        var trainable = _adapters is not null ? _adapters.Parameters().ToList() : model.parameters().ToList();
        var stepsPerEpoch = (items + options.BatchSize - 1) / options.BatchSize;
        TotalSteps = stepsPerEpoch * options.Epochs;
        var schedule = new LearningRateSchedule
        {
            Kind = options.LrScheduler,
            PeakLearningRate = options.LearningRate,
            WarmupSteps = (long)Math.Ceiling(options.WarmupRatio * TotalSteps),
            TotalSteps = TotalSteps,
            MinRatio = options.MinLearningRateRatio,
            DecayFraction = options.WsdDecayFraction,
        }.Validate();
        var named = _adapters is not null
            ? _adapters.Parameters().Select((p, i) => ($"lora.{i}", p))
            : model.named_parameters().Select(p => (p.name, p.parameter));
        // SFT and DPO decay every parameter, as they always have: the reward model's reference learning runs SFT with
        // WeightDecay 0.1 in iterate.json, so the shared matrices-only rule would change the default run's figures.
        var optimizer = OptimizerGroups.AdamW(named, options.LearningRate, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay,
            decays: (_, _) => true);
        _step = new OptimizerStep(optimizer, trainable, options.MaxGradNorm, schedule);
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
    public double SetLearningRate(int step) => _step.SetLearningRate(step);

    /// <summary>Micro-batches per optimizer step (<see cref="TrainerOptions.GradientAccumulationSteps"/>).</summary>
    public int MicroBatches { get; }

    /// <summary>The adapters being trained, or null for full fine-tuning.</summary>
    public LoraAdapters? Adapters => _adapters;

    /// <summary>Splits one step's items into at most <see cref="MicroBatches"/> consecutive, nearly equal, non-empty parts.</summary>
    public IReadOnlyList<T[]> Split<T>(IReadOnlyList<T> items)
    {
        var parts = Math.Min(MicroBatches, items.Count);
        var result = new List<T[]>(parts);
        for (int k = 0, start = 0; k < parts; k++)
        {
            var size = items.Count / parts + (k < items.Count % parts ? 1 : 0);
            result.Add(items.Skip(start).Take(size).ToArray());
            start += size;
        }
        return result;
    }

    /// <summary>Backpropagates <paramref name="loss"/> and takes one AdamW step, first clipping the global gradient norm when
    /// MaxGradNorm &gt; 0. Returns the norm before clipping, NaN when clipping is off.</summary>
    public double Step(Tensor loss) => Step(1, _ => loss);

    /// <inheritdoc cref="OptimizerStep.Step"/>
    public double Step(int microBatches, Func<int, Tensor> microLoss) => _step.Step(microBatches, microLoss);

    /// <summary>Folds trained LoRA adapters into the policy's weights (nothing to do in full fine-tuning).</summary>
    public void MergeAdapters() => _adapters?.Merge();

    public void Dispose()
    {
        _step.Optimizer.Dispose();
        _adapters?.Dispose();
    }
}
