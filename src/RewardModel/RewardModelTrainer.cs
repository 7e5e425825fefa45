using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Core.Progress;
using PostTrain.Model.Lora;
using PostTrain.Model.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.RewardModel;

/// <summary>
/// Trains a <see cref="RewardModel"/> on ordered comparisons with the Bradley–Terry loss (Ouyang et al. 2022;
/// Llama 2 sec. 3.2.2; Llama 3 sec. 4.1.2), AdamW and warm-up + cosine, and reports pairwise accuracy.
/// </summary>
public sealed class RewardModelTrainer
{
    public const string StageName = "reward_model";

    private readonly RewardModel _model;
    private readonly RewardModelOptions _options;
    private readonly ILogger _logger;

    public RewardModelTrainer(RewardModel model, RewardModelOptions options, ILogger? logger = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// The pairwise loss as a pure function. Per comparison i:
    /// <c>ℓ_i = −log σ(r_c,i − r_r,i − m_i) + c·(r_c,i + r_r,i)²</c>
    /// (Llama 2 eq. 2 for the margin m; Eisenstein et al. 2023 for the centering term c).
    /// </summary>
    /// <param name="chosenRewards">(B,) rewards of the preferred sequences.</param>
    /// <param name="rejectedRewards">(B,) rewards of the dispreferred sequences.</param>
    /// <param name="margins">(B,) margins m_i, or null for none (Llama 3).</param>
    /// <param name="centeringCoefficient">c ≥ 0; 0 disables centering.</param>
    /// <returns>The mean loss (scalar) and the per-comparison terms ℓ_i (B,).</returns>
    public static (Tensor Loss, Tensor Terms) Loss(Tensor chosenRewards, Tensor rejectedRewards, Tensor? margins = null, double centeringCoefficient = 0)
    {
        if (!chosenRewards.shape.SequenceEqual(rejectedRewards.shape) || chosenRewards.dim() != 1)
            throw new ArgumentException($"chosen rewards have shape [{string.Join(", ", chosenRewards.shape)}] and rejected [{string.Join(", ", rejectedRewards.shape)}], expected two equal (B,) shapes");
        if (margins is not null && !margins.shape.SequenceEqual(chosenRewards.shape))
            throw new ArgumentException($"margins have shape [{string.Join(", ", margins.shape)}], expected [{chosenRewards.shape[0]}]", nameof(margins));
        if (centeringCoefficient < 0) throw new ArgumentOutOfRangeException(nameof(centeringCoefficient), centeringCoefficient, "expected >= 0");
        using var scope = NewDisposeScope();
        var diff = chosenRewards - rejectedRewards;                   // (B,)
        if (margins is not null) diff = diff - margins;
        var terms = -F.logsigmoid(diff);                              // (B,) softplus form, stable for large |diff|
        if (centeringCoefficient > 0)
            terms = terms + centeringCoefficient * (chosenRewards + rejectedRewards).pow(2);
        var loss = terms.mean();
        return (loss.MoveToOuterDisposeScope(), terms.MoveToOuterDisposeScope());
    }

    /// <summary>Llama 2's schedule for <paramref name="totalSteps"/> steps: linear warm-up over <see cref="RewardModelOptions.WarmupRatio"/>, then cosine to <see cref="RewardModelOptions.MinLearningRateRatio"/> × peak.</summary>
    public static LearningRateSchedule Schedule(RewardModelOptions options, long totalSteps) =>
        LearningRateSchedule.Cosine(options.LearningRate, (long)Math.Ceiling(options.WarmupRatio * totalSteps), totalSteps, options.MinLearningRateRatio);

    /// <summary>
    /// Trains in place. When <paramref name="heldOut"/> is null, <see cref="RewardModelOptions.HeldOutFraction"/> of
    /// <paramref name="train"/> (a seeded shuffle) is held out instead.
    /// </summary>
    public RewardModelMetrics Train(IReadOnlyList<RewardComparison> train, IReadOnlyList<RewardComparison>? heldOut = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var o = _options;
        var rng = new Random(o.Seed);
        var trainSet = train.ToList();
        for (var i = 0; i < trainSet.Count; i++)
        {
            var c = trainSet[i] ?? throw new ArgumentException($"comparison {i} is null", nameof(train));
            if (c.Chosen is not { Length: > 0 } || c.Rejected is not { Length: > 0 })
                throw new ArgumentException($"comparison {i}: chosen has {c.Chosen?.Length ?? 0} tokens and rejected {c.Rejected?.Length ?? 0}, expected both > 0", nameof(train));
        }
        if (_model.LikelihoodWeight > 0 && trainSet.Concat(heldOut ?? []).Select((c, i) => (c, i)).FirstOrDefault(x => x.c.ResponseStart < 1) is { c: not null } bad)
            throw new ArgumentException($"comparison {bad.i} does not say where its response starts (ResponseStart {bad.c.ResponseStart}), which the reward model's likelihood term needs; build comparisons with PreferenceComparisons.Build", nameof(train));
        if (heldOut is null && o.HeldOutFraction > 0 && trainSet.Count > 1)
        {
            Shuffle(trainSet, rng);
            var n = Math.Max(1, (int)Math.Round(o.HeldOutFraction * trainSet.Count));
            heldOut = trainSet.GetRange(0, n);
            trainSet.RemoveRange(0, n);
        }
        heldOut ??= [];
        if (trainSet.Count == 0) throw new ArgumentException("no training comparisons left, expected at least 1", nameof(train));

        var stepsPerEpoch = (trainSet.Count + o.BatchSize - 1) / o.BatchSize;
        long total = (long)stepsPerEpoch * o.Epochs, step = 0;
        var initial = Evaluate(_model, heldOut, o.EvalBatchSize);
        _logger.LogInformation("reward model: {Train} train / {HeldOut} held-out comparisons, {Steps} steps, initial held-out accuracy {Acc:F3}",
            trainSet.Count, heldOut.Count, total, initial.Accuracy);

        var schedule = Schedule(o, total);
        // With LoRA the backbone (lm_head included) is frozen: the adapters and the score head train.
        using var adapters = o.Lora() is { } lora ? LoraAdapters.Attach(_model.Backbone, lora) : null;
        var named = _model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (adapters is not null) named.AddRange(adapters.Parameters().Select((p, i) => ($"lora.{i}", p)));
        // The RM's own modules leave out an untied lm_head; whatever reads it (the likelihood term, the LM term) trains
        // it, and the checkpoint stores it.
        else if ((_model.LikelihoodWeight > 0 || o.LanguageModelingWeight > 0) && _model.Backbone.lm_head is { } head)
            named.AddRange(head.named_parameters().Select(p => ("lm_head." + p.name, p.parameter)));
        var parameters = named.Select(p => p.parameter).ToList();
        using var optimizer = OptimizerGroups.AdamW(named, o.LearningRate, o.AdamBeta1, o.AdamBeta2, 1e-8, o.WeightDecay);
        var optimizerStep = new OptimizerStep(optimizer, parameters, o.MaxGradNorm, schedule);
        _model.train();
        double epochLoss = 0;
        for (var epoch = 0; epoch < o.Epochs; epoch++)
        {
            Shuffle(trainSet, rng);
            epochLoss = 0;
            double runLoss = 0, runAcc = 0, runMargin = 0, lmLoss = 0;
            int runSteps = 0, lmSteps = 0;
            for (var b = 0; b < stepsPerEpoch; b++, step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var lr = optimizerStep.SetLearningRate(step);
                var batch = trainSet.GetRange(b * o.BatchSize, Math.Min(o.BatchSize, trainSet.Count - b * o.BatchSize));
                // Micro-batches (gradient accumulation), each weighted by its share of the step's comparisons.
                var parts = Math.Min(o.GradientAccumulationSteps, batch.Count);
                var l = 0f;
                var diffs = new List<Tensor>();
                var first = 0;
                optimizerStep.Step(parts, k =>
                {
                    var size = batch.Count / parts + (k < batch.Count % parts ? 1 : 0);
                    var part = batch.GetRange(first, size);
                    first += size;
                    var B = part.Count;
                    // One forward for chosen and rejected together (TRL's concatenated_forward): rows 0..B-1 chosen, B..2B-1 rejected.
                    var (ids, lengths) = RewardModel.Collate(part.Select(c => c.Chosen).Concat(part.Select(c => c.Rejected)).ToArray(),
                        _model.Config.MaxPositionEmbeddings, _model.Device);
                    var starts = _model.LikelihoodWeight > 0 ? tensor(part.Select(c => (long)c.ResponseStart).Concat(part.Select(c => (long)c.ResponseStart)).ToArray(), device: ids.device) : null;
                    var (rewards, hidden) = _model.ForwardWithHidden(ids, lengths, starts); // (2B,), (2B, T, C)
                    var rc = rewards[..B];
                    var rr = rewards[B..];
                    var margins = o.UseMargin ? tensor(part.Select(c => c.Margin).ToArray(), device: rewards.device) : null;
                    var (loss, _) = Loss(rc, rr, margins, o.CenteringCoefficient);
                    if (o.LanguageModelingWeight > 0 && ChosenTargets(part, ids.shape[1]) is { } targets)
                    {
                        var logits = _model.Backbone.Head(hidden[..B]);    // (B, T, V): the chosen rows only
                        var lm = F.cross_entropy(logits.reshape(-1, logits.shape[^1]), tensor(targets, device: logits.device), ignore_index: IgnoreIndex);
                        lmLoss += lm.item<float>() / parts;
                        if (k == 0) lmSteps++;
                        loss = loss + o.LanguageModelingWeight * lm;
                    }
                    if (parts > 1) loss = loss * ((double)B / batch.Count);
                    l += loss.item<float>();
                    diffs.Add((rc - rr).detach().MoveToOuterDisposeScope());
                    return loss;
                });

                if (!float.IsFinite(l)) throw new InvalidOperationException($"reward model loss is {l} at step {step}, expected a finite value; lower RewardModelOptions.LearningRate ({o.LearningRate})");
                var d = cat(diffs, 0);
                epochLoss += l;
                runLoss += l;
                runAcc += d.gt(0).to_type(ScalarType.Float32).mean().item<float>();
                runMargin += d.mean().item<float>();
                runSteps++;
                if ((step + 1) % o.LogEvery == 0 || step + 1 == total)
                {
                    var values = new Dictionary<string, double>
                    {
                        ["loss"] = runLoss / runSteps,
                        ["accuracy"] = runAcc / runSteps,
                        ["margin"] = runMargin / runSteps,
                        ["lr"] = lr,
                        ["epoch"] = epoch,
                    };
                    if (lmSteps > 0) values["lm_loss"] = lmLoss / lmSteps;
                    progress?.Report(new StageProgress(StageName, step + 1, total, "step", values));
                    runLoss = runAcc = runMargin = lmLoss = 0;
                    runSteps = lmSteps = 0;
                }
            }
        }
        adapters?.Merge();
        _model.eval();
        var trainEval = Evaluate(_model, trainSet, o.EvalBatchSize);
        var heldEval = Evaluate(_model, heldOut, o.EvalBatchSize);
        var metrics = new RewardModelMetrics(step, epochLoss / stepsPerEpoch, trainEval.Accuracy, heldEval.Accuracy,
            heldOut.Count > 0 ? heldEval.MeanMargin : trainEval.MeanMargin, initial.Accuracy, trainSet.Count, heldOut.Count);
        _logger.LogInformation("reward model: loss {Loss:F4}, train accuracy {Train:F3}, held-out accuracy {Held:F3}, mean margin {Margin:F3}",
            metrics.Loss, metrics.TrainAccuracy, metrics.HeldOutAccuracy, metrics.MeanMargin);
        return metrics;
    }

    private const int IgnoreIndex = -100;

    /// <summary>
    /// Flattened (B·T) next-token targets of the chosen rows of a batch padded to <paramref name="T"/>: the id at t + 1
    /// where t + 1 is a response id, else ignored. Null when no comparison in the batch knows where its response starts.
    /// </summary>
    public static long[]? ChosenTargets(IReadOnlyList<RewardComparison> batch, long T)
    {
        var targets = new long[batch.Count * T];
        Array.Fill(targets, IgnoreIndex);
        var any = false;
        for (var i = 0; i < batch.Count; i++)
        {
            var (ids, start) = (batch[i].Chosen, batch[i].ResponseStart);
            if (start < 1) continue;
            for (var t = start - 1; t + 1 < ids.Length; t++)
            {
                targets[i * T + t] = ids[t + 1];
                any = true;
            }
        }
        return any ? targets : null;
    }

    /// <summary>Pairwise accuracy and mean margin of <paramref name="model"/> on <paramref name="comparisons"/> (no gradients).</summary>
    public static PairwiseEvaluation Evaluate(RewardModel model, IReadOnlyList<RewardComparison> comparisons, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(comparisons);
        if (comparisons.Count == 0) return new PairwiseEvaluation(double.NaN, double.NaN, 0);
        var starts = model.LikelihoodWeight > 0 ? comparisons.Select(c => c.ResponseStart).Concat(comparisons.Select(c => c.ResponseStart)).ToArray() : null;
        var scores = model.Score(comparisons.Select(c => c.Chosen).Concat(comparisons.Select(c => c.Rejected)).ToArray(), starts, batchSize);
        int n = comparisons.Count, correct = 0;
        double margin = 0;
        for (var i = 0; i < n; i++)
        {
            var d = scores[i] - scores[n + i];
            if (d > 0) correct++;
            margin += d;
        }
        return new PairwiseEvaluation((double)correct / n, margin / n, n);
    }

    private static void Shuffle<T>(List<T> list, Random rng)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
