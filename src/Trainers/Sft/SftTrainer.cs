using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Core.Progress;
using PostTrain.Model.Tokenization;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Trainers.Sft;

/// <summary>
/// Supervised fine-tuning of a policy on chat examples: cross-entropy on response tokens only (prompt positions carry
/// <see cref="TokenTargets.IgnoreIndex"/>), optionally packed, AdamW with warmup + cosine or WSD.
/// </summary>
public sealed class SftTrainer
{
    public const string StageName = "sft";

    private readonly SftOptions _options;
    private readonly ILogger _logger;

    public SftTrainer(SftOptions options, ILogger<SftTrainer>? logger = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public SftOptions Options => _options;

    /// <summary>
    /// Mean cross-entropy per target token.
    /// </summary>
    /// <param name="logits">(B, T, V).</param>
    /// <param name="targets">(B, T) int64 next-token ids, <see cref="TokenTargets.IgnoreIndex"/> where no loss is taken.</param>
    /// <returns>A scalar; NaN-free only when at least one target is present (checked by the trainer up front).</returns>
    public static Tensor Loss(Tensor logits, Tensor targets)
    {
        var V = logits.shape[^1];
        return F.cross_entropy(logits.reshape(-1, V).to_type(ScalarType.Float32), targets.reshape(-1), ignore_index: TokenTargets.IgnoreIndex);
    }

    /// <summary>
    /// Trains <paramref name="policy"/> in place on <paramref name="train"/> and measures the held-out loss.
    /// One optimizer step per <see cref="SftOptions.BatchSize"/> examples; progress reports one unit per step.
    /// </summary>
    /// <param name="padId">Token filling ragged rows; never attended to by real tokens and never a target.</param>
    public SftResult Train(LlamaForCausalLM policy, IReadOnlyList<ChatEncoding> train, IReadOnlyList<ChatEncoding>? heldOut, int padId,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("SFT needs at least one training example, got 0", nameof(train));
        var maxLength = _options.MaxLength > 0 ? _options.MaxLength : policy.Config.MaxPositionEmbeddings;
        var rows = Prepare(train, maxLength, "train");
        var heldOutRows = heldOut is { Count: > 0 } ? Prepare(heldOut, maxLength, "held-out") : null;
        var blockSize = _options.PackingBlockSize > 0 ? _options.PackingBlockSize : maxLength;
        var device = policy.parameters().First().device;

        using var loop = new TrainingLoop(policy, _options, rows.Count);
        var totalSteps = loop.TotalSteps;

        var history = new List<double>(totalSteps);
        var heldOutByStep = new Dictionary<int, double>();
        double epochLossSum = 0, epochTokens = 0, lastEpochLoss = double.NaN;
        long trainTokens = 0;
        var clock = new Stopwatch();
        var step = 0;
        policy.train();
        for (var epoch = 0; epoch < _options.Epochs; epoch++)
        {
            var order = loop.ShuffledOrder();
            (epochLossSum, epochTokens) = (0, 0);
            for (var start = 0; start < order.Length; start += _options.BatchSize, step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                clock.Start();
                var lr = loop.SetLearningRate(step);
                var chosen = order.Skip(start).Take(_options.BatchSize).Select(i => rows[i]).ToList();
                var targets = chosen.Sum(r => r.Targets.Count(t => t != TokenTargets.IgnoreIndex));
                // Each micro-batch's mean is weighted by its share of the step's target tokens, so the summed gradient
                // is the gradient of the step's mean.
                var parts = loop.Split(chosen);
                var lossValue = 0f;
                var gradNorm = loop.Step(parts.Count, k =>
                {
                    using var batch = Collate(parts[k], padId, blockSize, device);
                    var loss = Loss(batch.Forward(policy), batch.Targets);
                    if (parts.Count > 1) loss = loss * ((double)parts[k].Sum(r => r.Targets.Count(t => t != TokenTargets.IgnoreIndex)) / targets);
                    lossValue += loss.item<float>();
                    return loss;
                });
                clock.Stop();

                var tokens = chosen.Sum(r => r.Ids.Length);
                trainTokens += tokens;
                epochLossSum += lossValue * targets;
                epochTokens += targets;
                history.Add(lossValue);
                var metrics = new Dictionary<string, double>
                {
                    ["loss"] = lossValue,
                    ["learning_rate"] = lr,
                    ["grad_norm"] = gradNorm,
                    ["tokens_per_second"] = trainTokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
                    ["epoch"] = epoch + (double)(start + chosen.Count) / order.Length,
                };
                if (heldOutRows is not null && _options.EvalSteps > 0 && (step + 1) % _options.EvalSteps == 0 && step + 1 < totalSteps)
                {
                    var h = HeldOutLoss(policy, heldOutRows, padId, blockSize, device);
                    heldOutByStep[step + 1] = h;
                    metrics["eval/loss"] = h;
                }
                progress?.Report(new StageProgress(StageName, step + 1, totalSteps, "step", metrics));
            }
            lastEpochLoss = epochLossSum / Math.Max(epochTokens, 1);
            _logger.LogInformation("SFT epoch {Epoch}/{Epochs}: loss {Loss:F4}", epoch + 1, _options.Epochs, lastEpochLoss);
        }

        loop.MergeAdapters();
        double? heldOutLoss = null;
        if (heldOutRows is not null)
        {
            heldOutLoss = HeldOutLoss(policy, heldOutRows, padId, blockSize, device);
            heldOutByStep[step] = heldOutLoss.Value;
            _logger.LogInformation("SFT held-out loss {Loss:F4} over {Count} examples", heldOutLoss, heldOutRows.Count);
        }
        var tokensPerSecond = trainTokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        return new SftResult(lastEpochLoss, heldOutLoss, tokensPerSecond, step, trainTokens, history, heldOutByStep);
    }

    /// <summary>
    /// The stage on disk: loads the policy checkpoint (with its tokenizer), templates the SFT JSONL with the Llama 3 chat
    /// format, trains, and saves the policy to <paramref name="outputDir"/> with metadata (stage, parent checkpoint hash,
    /// dataset SHA-256, options, metrics).
    /// </summary>
    /// <param name="heldOutPath">SFT JSONL measured after training; null for none.</param>
    public SftResult Run(string policyDir, string datasetPath, string? heldOutPath, string outputDir, Device? device = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var checkpoint = Checkpoint.Load(policyDir, device);
        using var policy = checkpoint.Model;
        var tokenizer = RunFiles.RequireTokenizer(checkpoint, policyDir);
        var template = new ChatTemplate(tokenizer);
        var train = SftDataset.Read(datasetPath).Select(e => template.EncodeExample(e.Prompt, e.Response)).ToList();
        if (train.Count == 0) throw new InvalidDataException($"{datasetPath}: no SFT examples, expected at least one");
        var heldOut = heldOutPath is null ? null : SftDataset.Read(heldOutPath).Select(e => template.EncodeExample(e.Prompt, e.Response)).ToList();
        _logger.LogInformation("SFT on {Count} examples from {Path}, policy {Hash}", train.Count, datasetPath, checkpoint.Hash);
        var result = Train(policy, train, heldOut, tokenizer.PadId, progress, cancellationToken);
        var metadata = new Dictionary<string, string>
        {
            ["stage"] = StageName,
            ["parent_checkpoint"] = checkpoint.Hash,
            ["dataset"] = Path.GetFileName(datasetPath),
            ["dataset_sha256"] = RunFiles.Sha256(datasetPath),
            ["options"] = RunFiles.ToJson(_options),
            ["metrics"] = RunFiles.MetricsJson(result.Metrics()),
        };
        if (heldOutPath is not null) metadata["held_out_sha256"] = RunFiles.Sha256(heldOutPath);
        Checkpoint.Save(outputDir, policy, tokenizer, metadata: metadata);
        return result with { CheckpointDir = outputDir };
    }

    /// <summary>Token-weighted mean cross-entropy over <paramref name="examples"/>, without gradients.</summary>
    public double HeldOutLoss(LlamaForCausalLM policy, IReadOnlyList<ChatEncoding> examples, int padId)
    {
        var maxLength = _options.MaxLength > 0 ? _options.MaxLength : policy.Config.MaxPositionEmbeddings;
        var blockSize = _options.PackingBlockSize > 0 ? _options.PackingBlockSize : maxLength;
        return HeldOutLoss(policy, Prepare(examples, maxLength, "held-out"), padId, blockSize, policy.parameters().First().device);
    }

    private double HeldOutLoss(LlamaForCausalLM policy, IReadOnlyList<(int[] Ids, int[] Targets)> rows, int padId, int blockSize, Device device)
    {
        policy.eval();
        try
        {
            using var _ = no_grad();
            double sum = 0;
            long count = 0;
            for (var start = 0; start < rows.Count; start += _options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var chunk = rows.Skip(start).Take(_options.BatchSize).ToList();
                using var batch = Collate(chunk, padId, blockSize, device);
                var n = chunk.Sum(r => r.Targets.Count(t => t != TokenTargets.IgnoreIndex));
                sum += Loss(batch.Forward(policy), batch.Targets).item<float>() * (double)n;
                count += n;
            }
            return sum / count;
        }
        finally
        {
            policy.train();
        }
    }

    private TokenBatch Collate(IReadOnlyList<(int[] Ids, int[] Targets)> rows, int padId, int blockSize, Device device) =>
        _options.Packing ? TokenBatch.Pack(rows, blockSize, padId, device) : TokenBatch.Pad(rows, padId, device);

    /// <summary>Truncates to <paramref name="maxLength"/> and builds response-only targets; every example must keep a target.</summary>
    internal static List<(int[] Ids, int[] Targets)> Prepare(IReadOnlyList<ChatEncoding> examples, int maxLength, string split)
    {
        var rows = new List<(int[] Ids, int[] Targets)>(examples.Count);
        for (var i = 0; i < examples.Count; i++)
        {
            var e = examples[i] ?? throw new ArgumentException($"{split} example {i} is null");
            var targets = TokenTargets.Response(e);
            var ids = e.Ids;
            if (ids.Length > maxLength)
            {
                ids = ids[..maxLength];
                targets = targets[..maxLength];
                targets[^1] = TokenTargets.IgnoreIndex; // its target was cut off
            }
            if (!targets.Any(t => t != TokenTargets.IgnoreIndex))
                throw new ArgumentException($"{split} example {i} has no response token to learn from (length {e.Length}, prompt {e.PromptLength}, max length {maxLength})");
            rows.Add((ids, targets));
        }
        return rows;
    }
}
