using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Training;
using PostTrain.Core.Progress;
using PostTrain.Model.Tokenization;
using PostTrain.Pretrain.Data;
using PostTrain.Sampling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Pretrain;

/// <summary>
/// Pretrains a LLaMA from scratch on the embedded task corpus (or the user's text): trains the byte-level BPE,
/// packs documents into fixed-length rows, runs AdamW with warmup + cosine/WSD, clipping and gradient accumulation,
/// anneals on the upsampled high-quality subset, checkpoints with exact resume, averages the last K checkpoints,
/// and measures held-out loss and greedy exact-match accuracy. Progress metrics: "loss", "lr", "tokens_per_s",
/// "heldout_loss" (when evaluated).
/// </summary>
public sealed class Pretrainer
{
    public const string Stage = "pretrain";
    public const string CheckpointsDirName = "checkpoints";
    public const string FinalDirName = "final";
    public const string TrainingStateDirName = "training_state";

    private readonly PretrainOptions _options;
    private readonly ILogger _log;

    public Pretrainer(PretrainOptions options, ILogger<Pretrainer>? logger = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _log = logger ?? (ILogger)NullLogger.Instance;
    }

    public PretrainResult Run(IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = _options;
        var wall = Stopwatch.StartNew();
        Determinism.Seed(o.Seed, o.Threads);
        var device = ParseDevice(o.Device);
        var checkpointsRoot = Path.Combine(o.OutputDir, CheckpointsDirName);
        var resumeFrom = o.Resume ? LatestCheckpoint(checkpointsRoot) : null;
        if (resumeFrom is null && Directory.Exists(checkpointsRoot))
            Directory.Delete(checkpointsRoot, recursive: true); // a fresh run must not average a previous run's checkpoints

        var corpus = PretrainDocuments.Build(o);
        _log.LogInformation("corpus: {Train} training documents ({HighQuality} high-quality), {HeldOut} held-out", corpus.Train.Count, corpus.Train.Count(d => d.HighQuality), corpus.HeldOut.Count);

        ITokenizer tokenizer;
        LlamaForCausalLM model;
        var startStep = 0;
        var trainLoss = double.NaN;
        if (resumeFrom is not null)
        {
            var resumed = Checkpoint.Load(resumeFrom, device);
            tokenizer = resumed.Tokenizer ?? throw new InvalidDataException($"{resumeFrom}: checkpoint has no tokenizer files; cannot resume");
            model = resumed.Model;
            startStep = CheckResumable(resumeFrom, resumed.Metadata);
            // A run killed after its last checkpoint resumes with no step left to run: its loss is the checkpoint's.
            trainLoss = SavedLoss(resumeFrom, resumed.Metadata);
            _log.LogInformation("resuming from {Dir} at step {Step}", resumeFrom, startStep);
        }
        else
        {
            var preset = Scaling.ScaledPreset.For(o.Preset, o.HiddenSize, o.Layers);
            tokenizer = ByteBpeTokenizer.Train(corpus.TokenizerTexts(), o.TokenizerVocabSize ?? preset.VocabSize, cancellationToken: cancellationToken);
            var config = preset with
            {
                VocabSize = tokenizer.VocabSize,
                BosTokenId = tokenizer.BosId,
                EosTokenId = tokenizer.EosId,
                PadTokenId = tokenizer.PadId,
            };
            Determinism.Seed(o.Seed, o.Threads);
            model = new LlamaForCausalLM(config, device);
        }
        if (o.SequenceLength > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"option SequenceLength is {o.SequenceLength}, expected <= max_position_embeddings {model.Config.MaxPositionEmbeddings} of preset {o.Preset}");

        var template = TryChatTemplate(tokenizer);
        using var main = PackedSequences.Pack(corpus.Train.Select(d => Encode(d, tokenizer, template)), tokenizer.EosId, o.SequenceLength, "training corpus");
        using var anneal = PackedSequences.Pack(corpus.AnnealMix(o.AnnealUpsample, o.AnnealSftUpsample).Select(d => Encode(d, tokenizer, template)), tokenizer.EosId, o.SequenceLength, "annealing mix");
        using var heldOut = PackedSequences.Pack(corpus.HeldOut.Select(d => Encode(d, tokenizer, template)), tokenizer.EosId, o.SequenceLength, "held-out set");
        var annealStart = o.Steps - (int)Math.Round(o.AnnealFraction * o.Steps);
        var mainOrder = new DataOrder(o.Seed, 0, main.Count);
        var annealOrder = new DataOrder(o.Seed, 1, anneal.Count);

        model.train();
        using var optimizer = OptimizerGroups.AdamW(model.named_parameters(), o.LearningRate, o.AdamBeta1, o.AdamBeta2, 1e-8, o.WeightDecay);
        var optimizerStep = new OptimizerStep(optimizer, model.parameters().ToList(), o.MaxGradNorm, Schedule);
        if (resumeFrom is not null)
        {
            // Moments, Adam step counts, group learning rates and libtorch's RNG state.
            var state = TrainingState.Load(Path.Combine(resumeFrom, TrainingStateDirName), model, optimizer);
            if (state.Step != startStep || state.DataPosition != DataPosition(startStep))
                throw new InvalidDataException($"{Path.Combine(resumeFrom, TrainingStateDirName, TrainingState.StateFile)}: step {state.Step} / data_position {state.DataPosition}, expected {startStep} / {DataPosition(startStep)} from {Path.Combine(resumeFrom, Checkpoint.MetadataFile)}");
        }

        var tokensPerStep = (long)o.BatchSize * o.SequenceLength * o.GradientAccumulation;
        double? lastHeldOut = null;
        var loopClock = Stopwatch.StartNew();
        for (var step = startStep; step < o.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var lr = optimizerStep.SetLearningRate(step);
            var inAnneal = step >= annealStart && o.AnnealFraction > 0;
            var (rows, order, micro0) = inAnneal
                ? (anneal, annealOrder, (long)(step - annealStart) * o.GradientAccumulation)
                : (main, mainOrder, (long)step * o.GradientAccumulation);
            var lossSum = 0.0;
            optimizerStep.Step(o.GradientAccumulation, m =>
            {
                var batch = rows.Rows.index_select(0, tensor(order.Batch(micro0 + m, o.BatchSize))).to(device); // (B, T+1)
                var loss = LanguageModelLoss(model, batch);
                lossSum += loss.item<float>();
                return loss / o.GradientAccumulation;
            });
            trainLoss = lossSum / o.GradientAccumulation;
            if (!double.IsFinite(trainLoss))
                throw new InvalidOperationException($"training loss is {trainLoss} at step {step + 1}; lower LearningRate (now {o.LearningRate}) or raise WarmupSteps (now {o.WarmupSteps})");

            var done = step + 1;
            var metrics = new Dictionary<string, double>
            {
                ["loss"] = trainLoss,
                ["lr"] = lr,
                ["tokens_per_s"] = tokensPerStep * (done - startStep) / Math.Max(loopClock.Elapsed.TotalSeconds, 1e-9),
            };
            if (o.EvalEvery > 0 && done % o.EvalEvery == 0 && done < o.Steps)
            {
                lastHeldOut = HeldOutLoss(model, heldOut, device);
                metrics["heldout_loss"] = lastHeldOut.Value;
                model.train();
            }
            if (done % o.CheckpointEvery == 0 || done == o.Steps)
                SaveCheckpoint(Path.Combine(checkpointsRoot, StepDirName(done)), model, tokenizer, optimizer, done, trainLoss);
            progress?.Report(new StageProgress(Stage, done, o.Steps, "step", metrics));
        }
        var tokensPerSecond = tokensPerStep * (o.Steps - startStep) / Math.Max(loopClock.Elapsed.TotalSeconds, 1e-9);

        var finalDir = Path.Combine(o.OutputDir, FinalDirName);
        var averaged = LatestCheckpoints(checkpointsRoot, o.AverageLastK);
        if (averaged.Count == 0) throw new InvalidOperationException($"{checkpointsRoot}: no checkpoint to average; the run saved none");
        CheckpointAveraging.Average(averaged, finalDir);
        var final = Checkpoint.Load(finalDir, device);
        using (final.Model)
        {
            var heldOutLoss = HeldOutLoss(final.Model, heldOut, device);
            double? exactMatch = corpus.HeldOutTasks.Count > 0 && template is not null && o.ExactMatchTasks > 0
                ? ExactMatch(final.Model, template, corpus, o.ExactMatchTasks, o.ExactMatchMaxNewTokens)
                : null;
            var entropy = UnigramEntropy(heldOut);
            var metadata = new Dictionary<string, string>(final.Metadata)
            {
                ["stage"] = Stage,
                ["steps"] = o.Steps.ToString(CultureInfo.InvariantCulture),
                ["averaged_checkpoints"] = string.Join(",", averaged.Select(Path.GetFileName)),
                ["heldout_loss"] = heldOutLoss.ToString("R", CultureInfo.InvariantCulture),
                ["unigram_entropy"] = entropy.ToString("R", CultureInfo.InvariantCulture),
                ["seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
                ["preset"] = o.Preset,
            };
            if (exactMatch is not null) metadata["exact_match"] = exactMatch.Value.ToString("R", CultureInfo.InvariantCulture);
            Checkpoint.Save(finalDir, final.Model, tokenizer, metadata: metadata);
            _log.LogInformation("pretrain done: held-out loss {Loss:F3} vs unigram entropy {Entropy:F3}, exact match {ExactMatch}", heldOutLoss, entropy, exactMatch);
            return new PretrainResult(finalDir, o.Steps, trainLoss, heldOutLoss, entropy, exactMatch, tokensPerSecond, wall.Elapsed)
            {
                NonEmbeddingParameters = Scaling.ScaledPreset.NonEmbeddingParameters(final.Model.Config),
                TrainingTokens = tokensPerStep * o.Steps,
            };
        }
    }

    /// <summary>Mean next-token cross-entropy (nats) of rows (B, T+1): inputs are the first T, targets the last T;
    /// <see cref="PackedSequences.Padding"/> targets are ignored.</summary>
    public static Tensor LanguageModelLoss(LlamaForCausalLM model, Tensor rows)
    {
        using var scope = NewDisposeScope();
        var T = rows.shape[1] - 1;
        // Padding only trails real tokens, so under the causal mask it never influences a real position.
        var input = rows[.., TensorIndex.Slice(0, T)].clamp_min(0);   // (B, T)
        var target = rows[.., TensorIndex.Slice(1, T + 1)];            // (B, T)
        var logits = model.forward(input);                             // (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[^1]), target.reshape(-1), ignore_index: PackedSequences.Padding)
            .MoveToOuterDisposeScope();
    }

    /// <summary>The learning-rate schedule these options define: warmup then cosine to the min, or warmup-stable-decay
    /// whose decay spans the annealing window.</summary>
    public LearningRateSchedule Schedule => _options.Schedule == "wsd"
        ? LearningRateSchedule.Wsd(_options.LearningRate, _options.WarmupSteps, _options.Steps, Math.Max(_options.DecayFraction ?? _options.AnnealFraction, 1.0 / _options.Steps), _options.MinLrRatio)
        : LearningRateSchedule.Cosine(_options.LearningRate, _options.WarmupSteps, _options.Steps, _options.MinLrRatio);

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public double LearningRate(int step) => Schedule.At(step);

    /// <summary>Mean per-token loss over all held-out targets, in evaluation mode and without gradients.</summary>
    public static double HeldOutLoss(LlamaForCausalLM model, PackedSequences heldOut, Device device, int batchSize = 16)
    {
        model.eval();
        using var _ = no_grad();
        double total = 0;
        long rows = 0;
        for (long start = 0; start < heldOut.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var end = Math.Min(heldOut.Count, start + batchSize);
            var batch = heldOut.Rows[TensorIndex.Slice(start, end)].to(device);
            var targets = batch[.., TensorIndex.Slice(1)].ge(0).sum().item<long>();
            total += LanguageModelLoss(model, batch).item<float>() * targets;
            rows += targets;
        }
        return total / rows;
    }

    /// <summary>Entropy in nats of the token frequencies of the held-out targets: the best loss without context.</summary>
    public static double UnigramEntropy(PackedSequences heldOut)
    {
        using var scope = NewDisposeScope();
        var targets = heldOut.Rows[.., TensorIndex.Slice(1)].reshape(-1);
        targets = targets[targets.ge(0)];
        var counts = targets.bincount(null).to_type(ScalarType.Float64);
        var p = counts[counts.gt(0)] / counts.sum();
        return -(p * p.log()).sum().item<double>();
    }

    private static double ExactMatch(LlamaForCausalLM model, ChatTemplate template, PretrainDocuments corpus, int count, int maxNewTokens)
    {
        var tasks = corpus.HeldOutTasks.Take(count).ToList();
        if (tasks.Count == 0) return double.NaN;
        // The one decoder, greedy with N = 1; ids are positions, unique whatever the tasks' own ids are.
        var sampler = new Sampler(model, new SamplingOptions { SamplesPerPrompt = 1, Temperature = 0, MaxNewTokens = maxNewTokens }, template);
        var generated = sampler.Generate(tasks.Select((t, i) => new TokenPrompt($"{i}", template.EncodePrompt([ChatMessage.User(t.Prompt)]).Ids)).ToArray());
        return (double)tasks.Where((t, i) => corpus.IsCorrect(t, template.DecodeResponse(generated.Sequences[i].TokenIds))).Count() / tasks.Count;
    }

    private static int[] Encode(CorpusDocument doc, ITokenizer tokenizer, ChatTemplate? template)
    {
        if (doc.Response is null) return [tokenizer.BosId, .. tokenizer.Encode(doc.Text)];
        if (template is null) throw new InvalidOperationException("a conversation document needs a tokenizer with the Llama 3 chat specials");
        return template.EncodeExample(doc.Prompt ?? [ChatMessage.User(doc.Text)], doc.Response).Ids;
    }

    private static ChatTemplate? TryChatTemplate(ITokenizer tokenizer)
    {
        try { return new ChatTemplate(tokenizer); }
        catch (ArgumentException) { return null; }
    }

    private long DataPosition(int step) => (long)step * _options.GradientAccumulation * _options.BatchSize;

    /// <summary>The weights as a plain checkpoint (what averaging and later stages read), and beside them in
    /// <c>training_state/</c> what an exact resume needs.</summary>
    private void SaveCheckpoint(string dir, LlamaForCausalLM model, ITokenizer tokenizer, AdamW optimizer, int step, double loss)
    {
        var metadata = new Dictionary<string, string>(Fingerprint())
        {
            ["stage"] = Stage,
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["train_loss"] = loss.ToString("R", CultureInfo.InvariantCulture),
        };
        Checkpoint.Save(dir, model, tokenizer, metadata: metadata);
        // Rows consumed so far: the data order is a pure function of (seed, step), so this is a consistency check on resume.
        new TrainingState(step, DataPosition(step)).Save(Path.Combine(dir, TrainingStateDirName), model, optimizer);
    }

    /// <summary>Options that determine the trajectory; a resume with different values would not equal an uninterrupted run.</summary>
    private Dictionary<string, string> Fingerprint()
    {
        var o = _options;
        string S(object v) => Convert.ToString(v, CultureInfo.InvariantCulture)!;
        var fingerprint = new Dictionary<string, string>
        {
            ["option.preset"] = o.Preset, ["option.steps"] = S(o.Steps), ["option.batch_size"] = S(o.BatchSize),
            ["option.sequence_length"] = S(o.SequenceLength), ["option.gradient_accumulation"] = S(o.GradientAccumulation),
            ["option.learning_rate"] = S(o.LearningRate), ["option.min_lr_ratio"] = S(o.MinLrRatio), ["option.warmup_steps"] = S(o.WarmupSteps),
            ["option.schedule"] = o.Schedule, ["option.weight_decay"] = S(o.WeightDecay), ["option.beta1"] = S(o.AdamBeta1), ["option.beta2"] = S(o.AdamBeta2),
            ["option.grad_clip"] = S(o.MaxGradNorm), ["option.anneal_fraction"] = S(o.AnnealFraction), ["option.anneal_upsample"] = S(o.AnnealUpsample),
            ["option.seed"] = S(o.Seed), ["option.corpus_size"] = S(o.CorpusSize), ["option.data_files"] = string.Join("|", o.DataFiles.Select(Path.GetFullPath)),
        };
        // Only when set, so checkpoints written before these options existed still resume.
        if (o.DecayFraction is { } decay) fingerprint["option.decay_fraction"] = S(decay);
        if (o.HiddenSize is { } hidden) fingerprint["option.hidden_size"] = S(hidden);
        if (o.Layers is { } layers) fingerprint["option.layers"] = S(layers);
        if (o.AnnealSftFiles.Count > 0)
        {
            fingerprint["option.anneal_sft_files"] = string.Join("|", o.AnnealSftFiles.Select(Path.GetFullPath));
            fingerprint["option.anneal_sft_upsample"] = S(o.AnnealSftUpsample);
        }
        return fingerprint;
    }

    private int CheckResumable(string dir, IReadOnlyDictionary<string, string> metadata)
    {
        var path = Path.Combine(dir, Checkpoint.MetadataFile);
        foreach (var (key, expected) in Fingerprint())
        {
            metadata.TryGetValue(key, out var actual);
            if (actual != expected)
                throw new InvalidDataException($"{path}: {key} is {actual ?? "missing"}, but this run has {expected}; resume with the options of the interrupted run");
        }
        if (!metadata.TryGetValue("step", out var stepText) || !int.TryParse(stepText, CultureInfo.InvariantCulture, out var step) || step < 1)
            throw new InvalidDataException($"{path}: field step is {(stepText ?? "missing")}, expected a positive integer");
        return step;
    }

    private static double SavedLoss(string dir, IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue("train_loss", out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var loss) && double.IsFinite(loss)
            ? loss
            : throw new InvalidDataException($"{Path.Combine(dir, Checkpoint.MetadataFile)}: field train_loss is {text ?? "missing"}, expected a finite number");

    private static string StepDirName(int step) => $"step-{step:D6}";

    private static List<string> StepDirs(string root) =>
        Directory.Exists(root)
            ? Directory.GetDirectories(root, "step-*")
                .Where(d => File.Exists(Path.Combine(d, Checkpoint.ManifestFile)) && TrainingState.Exists(Path.Combine(d, TrainingStateDirName)))
                .Order(StringComparer.Ordinal).ToList()
            : [];

    private static string? LatestCheckpoint(string root) => StepDirs(root).LastOrDefault();

    private static List<string> LatestCheckpoints(string root, int k)
    {
        var dirs = StepDirs(root);
        return dirs.Skip(Math.Max(0, dirs.Count - k)).ToList();
    }

    private static Device ParseDevice(string device)
    {
        try { return DeviceOptions.Parse(device); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"option Device: {e.Message}", nameof(device), e);
        }
    }
}
