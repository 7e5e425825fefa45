using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Core.Progress;
using PostTrain.Model.Tokenization;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Dpo;

/// <summary>
/// Direct preference optimisation of a policy against frozen reference log-probs (<see cref="ReferenceLogProbs"/>), with
/// Llama 3's two changes: formatting tokens masked out of the log-probs and an NLL term on the chosen responses.
/// </summary>
public sealed class DpoTrainer
{
    public const string StageName = "dpo";

    /// <summary>Metric names, as TRL logs them.</summary>
    public const string Loss = "loss", RewardsChosen = "rewards/chosen", RewardsRejected = "rewards/rejected",
        RewardsAccuracies = "rewards/accuracies", RewardsMargins = "rewards/margins", LogpsChosen = "logps/chosen",
        LogpsRejected = "logps/rejected", NllLoss = "nll_loss";

    private readonly DpoOptions _options;
    private readonly ILogger _logger;

    public DpoTrainer(DpoOptions options, ILogger<DpoTrainer>? logger = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public DpoOptions Options => _options;

    /// <summary>The max length sequences are scored at for <paramref name="config"/>: the option, or max_position_embeddings.</summary>
    public int MaxLengthFor(LlamaConfig config) => _options.MaxLength > 0 ? _options.MaxLength : config.MaxPositionEmbeddings;

    /// <summary>
    /// Total loss of one batch and its per-pair figures. Pure apart from the one forward of <paramref name="policy"/>.
    /// </summary>
    /// <returns>loss (scalar, graph kept) = mean DPO loss + NllWeight × chosen NLL per token; the DPO part (B,), rewards (B,),
    /// policy log-probs (B,) and the NLL (scalar), all but loss detached.</returns>
    public (Tensor Loss, Tensor DpoLosses, Tensor ChosenRewards, Tensor RejectedRewards, Tensor PolicyChosen, Tensor PolicyRejected, Tensor Nll)
        BatchLoss(LlamaForCausalLM policy, IReadOnlyList<PreferenceEncoding> pairs, Tensor referenceChosen, Tensor referenceRejected, int padId)
    {
        using var scope = NewDisposeScope();
        var maxLength = MaxLengthFor(policy.Config);
        var rows = pairs.Select((p, i) => ConcatenatedForward.Rows(p, _options.MaskFormattingTokens, maxLength, i)).ToList();
        var device = policy.parameters().First().device;
        var (chosen, rejected, chosenTokens) = ConcatenatedForward.LogProbs(policy, rows, padId, device);
        var (losses, chosenRewards, rejectedRewards) = DpoLoss.Compute(chosen, rejected, referenceChosen.to(device), referenceRejected.to(device),
            _options.LossType, _options.Beta, _options.LabelSmoothing);
        // NLL of the chosen responses, normalised per scored token across the batch (Llama 3 sec. 4.1.4; TRL rpo_alpha).
        var nll = -chosen.sum() / Math.Max(chosenTokens, 1);
        var loss = losses.mean();
        if (_options.NllWeight > 0) loss = loss + _options.NllWeight * nll;
        return (loss.MoveToOuterDisposeScope(), losses.detach().MoveToOuterDisposeScope(), chosenRewards.MoveToOuterDisposeScope(),
            rejectedRewards.MoveToOuterDisposeScope(), chosen.detach().MoveToOuterDisposeScope(), rejected.detach().MoveToOuterDisposeScope(),
            nll.detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Trains <paramref name="policy"/> in place. <paramref name="reference"/> must hold the log-probs of exactly these pairs
    /// under the same masking and max length; it is only read, never recomputed.
    /// </summary>
    public DpoResult Train(LlamaForCausalLM policy, IReadOnlyList<PreferenceEncoding> pairs, ReferenceLogProbs reference, int padId,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(reference);
        if (pairs.Count == 0) throw new ArgumentException("DPO needs at least one preference pair, got 0", nameof(pairs));
        var maxLength = MaxLengthFor(policy.Config);
        reference.EnsureMatches(pairs.Count, _options.MaskFormattingTokens, maxLength);

        using var loop = new TrainingLoop(policy, _options, pairs.Count);
        var totalSteps = loop.TotalSteps;

        var history = new List<IReadOnlyDictionary<string, double>>(totalSteps);
        var epochSums = new Dictionary<string, double>();
        var epochPairs = 0;
        long tokens = 0;
        var clock = new Stopwatch();
        var step = 0;
        policy.train();
        for (var epoch = 0; epoch < _options.Epochs; epoch++)
        {
            var order = loop.ShuffledOrder();
            epochSums.Clear();
            epochPairs = 0;
            for (var start = 0; start < order.Length; start += _options.BatchSize, step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                clock.Start();
                var lr = loop.SetLearningRate(step);
                var idx = order.Skip(start).Take(_options.BatchSize).ToArray();
                // Micro-batches weighted by their share of the step's pairs (the NLL term is then normalised per token
                // within each micro-batch); their per-pair figures are joined for the step's metrics.
                var parts = loop.Split(idx);
                var (lossSum, nllSum) = (0f, 0f);
                var figures = new List<(Tensor Chosen, Tensor Rejected, Tensor PolicyChosen, Tensor PolicyRejected)>();
                var gradNorm = loop.Step(parts.Count, k =>
                {
                    var part = parts[k];
                    var refChosen = tensor(part.Select(i => (float)reference.Chosen[i]).ToArray());
                    var refRejected = tensor(part.Select(i => (float)reference.Rejected[i]).ToArray());
                    var r = BatchLoss(policy, part.Select(i => pairs[i]).ToList(), refChosen, refRejected, padId);
                    var weight = (double)part.Length / idx.Length;
                    var loss = parts.Count > 1 ? r.Loss * weight : r.Loss;
                    lossSum += loss.item<float>();
                    nllSum += parts.Count > 1 ? (float)(r.Nll.item<float>() * weight) : r.Nll.item<float>();
                    figures.Add((r.ChosenRewards.MoveToOuterDisposeScope(), r.RejectedRewards.MoveToOuterDisposeScope(),
                        r.PolicyChosen.MoveToOuterDisposeScope(), r.PolicyRejected.MoveToOuterDisposeScope()));
                    return loss;
                });
                clock.Stop();
                tokens += idx.Sum(i => Math.Min(pairs[i].Chosen.Length, maxLength) + Math.Min(pairs[i].Rejected.Length, maxLength));

                var m = BatchMetrics(tensor(lossSum), cat(figures.Select(f => f.Chosen).ToList(), 0), cat(figures.Select(f => f.Rejected).ToList(), 0),
                    cat(figures.Select(f => f.PolicyChosen).ToList(), 0), cat(figures.Select(f => f.PolicyRejected).ToList(), 0), tensor(nllSum));
                foreach (var (k, v) in m) epochSums[k] = epochSums.GetValueOrDefault(k) + v * idx.Length;
                epochPairs += idx.Length;
                m["learning_rate"] = lr;
                m["grad_norm"] = gradNorm;
                history.Add(m);
                progress?.Report(new StageProgress(StageName, step + 1, totalSteps, "step", m));
            }
            _logger.LogInformation("DPO epoch {Epoch}/{Epochs}: loss {Loss:F4}, accuracy {Acc:F3}", epoch + 1, _options.Epochs,
                epochSums[Loss] / epochPairs, epochSums[RewardsAccuracies] / epochPairs);
        }
        loop.MergeAdapters();
        var metrics = epochSums.ToDictionary(kv => kv.Key, kv => kv.Value / epochPairs);
        return new DpoResult(metrics, history, step, tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), reference.ForwardPasses);
    }

    /// <summary>
    /// The stage on disk: loads the policy (with its tokenizer), templates the preference JSONL, gets reference log-probs
    /// from the cache beside the dataset (loading <paramref name="referenceDir"/> only when the cache misses), trains, and
    /// saves the policy to <paramref name="outputDir"/> with metadata (stage, parent and reference hashes, dataset SHA-256,
    /// options, metrics). A pair with an <see cref="PreferencePair.Edited"/> response uses it as chosen
    /// (Llama 3 sec. 4.2.1: edited &gt; chosen &gt; rejected).
    /// </summary>
    public DpoResult Run(string policyDir, string referenceDir, string datasetPath, string outputDir, Device? device = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var checkpoint = Checkpoint.Load(policyDir, device);
        using var policy = checkpoint.Model;
        var tokenizer = RunFiles.RequireTokenizer(checkpoint, policyDir);
        var template = new ChatTemplate(tokenizer);
        var pairs = Encode(template, PreferenceDataset.Read(datasetPath));
        if (pairs.Count == 0) throw new InvalidDataException($"{datasetPath}: no preference pairs, expected at least one");
        var reference = PrepareReference(referenceDir, datasetPath, pairs, policy.Config, tokenizer.PadId, device, progress, cancellationToken, checkpoint);
        var (datasetHash, referenceHash) = (reference.DatasetHash, reference.ReferenceHash);
        _logger.LogInformation("DPO ({Loss}, β {Beta}) on {Count} pairs from {Path}; reference {Ref} ({Passes} reference forwards)",
            _options.LossType, _options.Beta, pairs.Count, datasetPath, referenceHash, reference.ForwardPasses);
        var result = Train(policy, pairs, reference, tokenizer.PadId, progress, cancellationToken);
        var metadata = new Dictionary<string, string>
        {
            ["stage"] = StageName,
            ["parent_checkpoint"] = checkpoint.Hash,
            ["reference_checkpoint"] = referenceHash,
            ["dataset"] = Path.GetFileName(datasetPath),
            ["dataset_sha256"] = datasetHash,
            ["options"] = RunFiles.ToJson(_options),
            ["metrics"] = RunFiles.MetricsJson(result.Metrics),
        };
        Checkpoint.Save(outputDir, policy, tokenizer, metadata: metadata);
        return result with { CheckpointDir = outputDir };
    }

    /// <summary>
    /// Reference log-probs of <paramref name="pairs"/> (templated from <paramref name="datasetPath"/>) under the checkpoint at
    /// <paramref name="referenceDir"/>: read from the cache beside the dataset when its keys match (dataset SHA-256,
    /// reference hash, masking, max length), else computed once and written there. The reference is loaded only on a miss.
    /// <see cref="Run"/> calls this; a workflow calls it ahead of several variants so they share one computation.
    /// </summary>
    /// <param name="policy">The policy already in memory, before training. When it is the reference checkpoint (same hash) its
    /// log-probs are the reference's, so no second model is loaded; with LoRA this is the base with no adapters.</param>
    public ReferenceLogProbs PrepareReference(string referenceDir, string datasetPath, IReadOnlyList<PreferenceEncoding> pairs,
        LlamaConfig config, int padId, Device? device = null, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default,
        LoadedCheckpoint? policy = null)
    {
        var datasetHash = RunFiles.Sha256(datasetPath);
        var referenceHash = Checkpoint.ComputeHash(referenceDir);
        LoadedCheckpoint? loadedReference = null;
        try
        {
            return ReferenceLogProbs.LoadOrCompute(datasetPath, datasetHash, referenceHash,
                () => policy?.Hash == referenceHash ? policy.Model : (loadedReference = Checkpoint.Load(referenceDir, device)).Model, pairs, _options.MaskFormattingTokens,
                MaxLengthFor(config), _options.BatchSize, padId, progress, cancellationToken);
        }
        finally
        {
            loadedReference?.Model.Dispose();
        }
    }

    /// <summary>Templates preference pairs; an edited response, when present, is the chosen one.</summary>
    public static IReadOnlyList<PreferenceEncoding> Encode(ChatTemplate template, IReadOnlyList<PreferencePair> pairs) =>
        pairs.Select(p => PreferenceEncoding.Encode(template, p.Prompt, p.Edited ?? p.Chosen, p.Rejected)).ToList();

    /// <summary>TRL's per-batch metrics from the figures <see cref="BatchLoss"/> returns.</summary>
    public static Dictionary<string, double> BatchMetrics(Tensor loss, Tensor chosenRewards, Tensor rejectedRewards, Tensor policyChosen, Tensor policyRejected, Tensor nll)
    {
        using var scope = NewDisposeScope();
        return new Dictionary<string, double>
        {
            [Loss] = loss.item<float>(),
            [RewardsChosen] = chosenRewards.mean().item<float>(),
            [RewardsRejected] = rejectedRewards.mean().item<float>(),
            [RewardsAccuracies] = chosenRewards.gt(rejectedRewards).to_type(ScalarType.Float32).mean().item<float>(),
            [RewardsMargins] = (chosenRewards - rejectedRewards).mean().item<float>(),
            [LogpsChosen] = policyChosen.mean().item<float>(),
            [LogpsRejected] = policyRejected.mean().item<float>(),
            [NllLoss] = nll.item<float>(),
        };
    }
}
