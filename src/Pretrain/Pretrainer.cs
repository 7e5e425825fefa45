using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Progress;
using PostTrain.Model.Tokenization;
using PostTrain.Pretrain.Data;
using PostTrain.Pretrain.Generation;
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
    private const string OptimizerPrefix = "optimizer.";

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
        torch.set_num_threads(o.Threads);
        var device = ParseDevice(o.Device);
        var checkpointsRoot = Path.Combine(o.OutputDir, CheckpointsDirName);
        var resumeFrom = o.Resume ? LatestCheckpoint(checkpointsRoot) : null;
        if (resumeFrom is null && Directory.Exists(checkpointsRoot))
            Directory.Delete(checkpointsRoot, recursive: true); // a fresh run must not average a previous run's checkpoints

        var corpus = PretrainDocuments.Build(o);
        _log.LogInformation("corpus: {Train} training documents ({HighQuality} high-quality), {HeldOut} held-out", corpus.Train.Count, corpus.Train.Count(d => d.HighQuality), corpus.HeldOut.Count);

        ITokenizer tokenizer;
        LlamaForCausalLM model;
        LoadedCheckpoint? resumed = null;
        var startStep = 0;
        if (resumeFrom is not null)
        {
            resumed = Checkpoint.Load(resumeFrom, device);
            tokenizer = resumed.Tokenizer ?? throw new InvalidDataException($"{resumeFrom}: checkpoint has no tokenizer files; cannot resume");
            model = resumed.Model;
            startStep = CheckResumable(resumeFrom, resumed.Metadata);
            _log.LogInformation("resuming from {Dir} at step {Step}", resumeFrom, startStep);
        }
        else
        {
            var preset = LlamaConfig.Preset(o.Preset);
            tokenizer = ByteBpeTokenizer.Train(corpus.TokenizerTexts(), o.TokenizerVocabSize ?? preset.VocabSize, cancellationToken: cancellationToken);
            var config = preset with
            {
                VocabSize = tokenizer.VocabSize,
                BosTokenId = tokenizer.BosId,
                EosTokenId = tokenizer.EosId,
                PadTokenId = tokenizer.PadId,
            };
            torch.manual_seed(o.Seed);
            model = new LlamaForCausalLM(config, device);
        }
        if (o.SequenceLength > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"option SequenceLength is {o.SequenceLength}, expected <= max_position_embeddings {model.Config.MaxPositionEmbeddings} of preset {o.Preset}");

        var template = TryChatTemplate(tokenizer);
        using var main = PackedSequences.Pack(corpus.Train.Select(d => Encode(d, tokenizer, template)), tokenizer.EosId, o.SequenceLength, "training corpus");
        using var anneal = PackedSequences.Pack(corpus.AnnealMix(o.AnnealUpsample).Select(d => Encode(d, tokenizer, template)), tokenizer.EosId, o.SequenceLength, "annealing mix");
        using var heldOut = PackedSequences.Pack(corpus.HeldOut.Select(d => Encode(d, tokenizer, template)), tokenizer.EosId, o.SequenceLength, "held-out set");
        var annealStart = o.Steps - (int)Math.Round(o.AnnealFraction * o.Steps);
        var mainOrder = new DataOrder(o.Seed, 0, main.Count);
        var annealOrder = new DataOrder(o.Seed, 1, anneal.Count);

        model.train();
        var named = model.named_parameters().ToList();
        // No decay on norm gains and embeddings (nanoGPT, Llama): shrinking them only distorts scale and token identity.
        var decay = named.Where(p => p.parameter.dim() >= 2 && !p.name.Contains("embed_tokens", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        var noDecay = named.Where(p => !(p.parameter.dim() >= 2 && !p.name.Contains("embed_tokens", StringComparison.Ordinal))).Select(p => p.parameter).ToList();
        using var optimizer = optim.AdamW(
            [new AdamW.ParamGroup(decay, lr: o.LearningRate, beta1: o.Beta1, beta2: o.Beta2, eps: 1e-8, weight_decay: o.WeightDecay),
             new AdamW.ParamGroup(noDecay, lr: o.LearningRate, beta1: o.Beta1, beta2: o.Beta2, eps: 1e-8, weight_decay: 0)],
            lr: o.LearningRate, beta1: o.Beta1, beta2: o.Beta2, weight_decay: o.WeightDecay);
        var paramNames = decay.Concat(noDecay).Select(p => named.First(n => ReferenceEquals(n.parameter, p) || n.parameter.Handle == p.Handle).name).ToList();
        if (resumed is not null) RestoreOptimizer(optimizer, paramNames, resumed, resumeFrom!);

        var tokensPerStep = (long)o.BatchSize * o.SequenceLength * o.GradientAccumulation;
        var trainLoss = double.NaN;
        double? lastHeldOut = null;
        var loopClock = Stopwatch.StartNew();
        for (var step = startStep; step < o.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var lr = LearningRate(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var inAnneal = step >= annealStart && o.AnnealFraction > 0;
            var (rows, order, micro0) = inAnneal
                ? (anneal, annealOrder, (long)(step - annealStart) * o.GradientAccumulation)
                : (main, mainOrder, (long)step * o.GradientAccumulation);
            optimizer.zero_grad();
            var lossSum = 0.0;
            for (var m = 0; m < o.GradientAccumulation; m++)
            {
                using var microScope = NewDisposeScope();
                var batch = rows.Rows.index_select(0, tensor(order.Batch(micro0 + m, o.BatchSize))).to(device); // (B, T+1)
                var loss = LanguageModelLoss(model, batch);
                (loss / o.GradientAccumulation).backward();
                lossSum += loss.item<float>();
            }
            if (o.GradClip > 0) nn.utils.clip_grad_norm_(model.parameters(), o.GradClip);
            optimizer.step();
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
                SaveCheckpoint(Path.Combine(checkpointsRoot, StepDirName(done)), model, tokenizer, optimizer, paramNames, done, trainLoss);
            progress?.Report(new StageProgress(Stage, done, o.Steps, "step", metrics));
        }
        var tokensPerSecond = tokensPerStep * (o.Steps - startStep) / Math.Max(loopClock.Elapsed.TotalSeconds, 1e-9);

        var finalDir = Path.Combine(o.OutputDir, FinalDirName);
        var averaged = LatestCheckpoints(checkpointsRoot, o.AverageLastK);
        using (var final = AverageCheckpoints(averaged, device))
        {
            var heldOutLoss = HeldOutLoss(final, heldOut, device);
            double? exactMatch = corpus.HeldOutTasks.Count > 0 && template is not null && o.ExactMatchTasks > 0
                ? ExactMatch(final, template, corpus, o.ExactMatchTasks, o.ExactMatchMaxNewTokens)
                : null;
            var metadata = new Dictionary<string, string>
            {
                ["stage"] = Stage,
                ["steps"] = o.Steps.ToString(CultureInfo.InvariantCulture),
                ["averaged_checkpoints"] = string.Join(",", averaged.Select(Path.GetFileName)),
                ["heldout_loss"] = heldOutLoss.ToString("R", CultureInfo.InvariantCulture),
                ["seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
                ["preset"] = o.Preset,
            };
            if (exactMatch is not null) metadata["exact_match"] = exactMatch.Value.ToString("R", CultureInfo.InvariantCulture);
            Checkpoint.Save(finalDir, final, tokenizer, metadata: metadata);
            var entropy = UnigramEntropy(heldOut);
            _log.LogInformation("pretrain done: held-out loss {Loss:F3} vs unigram entropy {Entropy:F3}, exact match {ExactMatch}", heldOutLoss, entropy, exactMatch);
            return new PretrainResult(finalDir, o.Steps, trainLoss, heldOutLoss, entropy, exactMatch, tokensPerSecond, wall.Elapsed);
        }
    }

    /// <summary>Mean next-token cross-entropy (nats) of rows (B, T+1): inputs are the first T, targets the last T.</summary>
    public static Tensor LanguageModelLoss(LlamaForCausalLM model, Tensor rows)
    {
        using var scope = NewDisposeScope();
        var T = rows.shape[1] - 1;
        var input = rows[.., TensorIndex.Slice(0, T)];                 // (B, T)
        var target = rows[.., TensorIndex.Slice(1, T + 1)];            // (B, T)
        var logits = model.forward(input);                             // (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[^1]), target.reshape(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based) under these options.</summary>
    public double LearningRate(int step)
    {
        var o = _options;
        var min = o.LearningRate * o.MinLrRatio;
        if (step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        if (o.Schedule == "wsd")
        {
            // Warmup-stable-decay: hold the peak, then decay linearly to the minimum over the annealing window.
            var decaySteps = Math.Max(1, (int)Math.Round(o.AnnealFraction * o.Steps));
            var decayStart = o.Steps - decaySteps;
            if (step < decayStart) return o.LearningRate;
            return o.LearningRate + (min - o.LearningRate) * (step - decayStart + 1) / decaySteps;
        }
        var progress = (double)(step - o.WarmupSteps + 1) / Math.Max(1, o.Steps - o.WarmupSteps);
        return min + 0.5 * (o.LearningRate - min) * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }

    /// <summary>Mean per-token loss over all held-out rows, in evaluation mode and without gradients.</summary>
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
            total += LanguageModelLoss(model, batch).item<float>() * (end - start);
            rows += end - start;
        }
        return total / rows;
    }

    /// <summary>Entropy in nats of the token frequencies of the held-out targets: the best loss without context.</summary>
    public static double UnigramEntropy(PackedSequences heldOut)
    {
        using var scope = NewDisposeScope();
        var targets = heldOut.Rows[.., TensorIndex.Slice(1)].reshape(-1);
        var counts = targets.bincount(null).to_type(ScalarType.Float64);
        var p = counts[counts.gt(0)] / counts.sum();
        return -(p * p.log()).sum().item<double>();
    }

    private static double ExactMatch(LlamaForCausalLM model, ChatTemplate template, PretrainDocuments corpus, int count, int maxNewTokens)
    {
        model.eval();
        var tasks = corpus.HeldOutTasks.Take(count).ToList();
        var correct = 0;
        foreach (var task in tasks)
        {
            var prompt = template.EncodePrompt([ChatMessage.User(task.Prompt)]).Ids;
            var generated = TokenGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = maxNewTokens, StopIds = template.StopIds.ToArray() });
            if (corpus.IsCorrect(task, template.DecodeResponse(generated.TokenIds))) correct++;
        }
        return (double)correct / tasks.Count;
    }

    private static int[] Encode(CorpusDocument doc, ITokenizer tokenizer, ChatTemplate? template)
    {
        if (doc.Response is null) return [tokenizer.BosId, .. tokenizer.Encode(doc.Text)];
        if (template is null) throw new InvalidOperationException("a conversation document needs a tokenizer with the Llama 3 chat specials");
        return template.EncodeExample([ChatMessage.User(doc.Text)], doc.Response).Ids;
    }

    private static ChatTemplate? TryChatTemplate(ITokenizer tokenizer)
    {
        try { return new ChatTemplate(tokenizer); }
        catch (ArgumentException) { return null; }
    }

    private void SaveCheckpoint(string dir, LlamaForCausalLM model, ITokenizer tokenizer, optim.Optimizer optimizer, IReadOnlyList<string> paramNames, int step, double loss)
    {
        var states = ((OptimizerHelper)optimizer).state_dict().State;
        var extra = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var adamSteps = new List<long>();
        for (var i = 0; i < states.Count; i++)
        {
            var s = (AdamW.State)states[i];
            extra[$"{OptimizerPrefix}{paramNames[i]}.exp_avg"] = s.exp_avg;
            extra[$"{OptimizerPrefix}{paramNames[i]}.exp_avg_sq"] = s.exp_avg_sq;
            adamSteps.Add(s.step);
        }
        var metadata = new Dictionary<string, string>(Fingerprint())
        {
            ["stage"] = Stage,
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["train_loss"] = loss.ToString("R", CultureInfo.InvariantCulture),
            // Rows consumed so far; the data order is a function of (seed, step), recorded for inspection.
            ["data_position"] = ((long)step * _options.GradientAccumulation * _options.BatchSize).ToString(CultureInfo.InvariantCulture),
            ["adam_steps"] = string.Join(",", adamSteps.Distinct()),
        };
        Checkpoint.Save(dir, model, tokenizer, extra, metadata);
    }

    private static void RestoreOptimizer(optim.Optimizer optimizer, IReadOnlyList<string> paramNames, LoadedCheckpoint loaded, string dir)
    {
        var states = ((OptimizerHelper)optimizer).state_dict().State;
        if (!loaded.Metadata.TryGetValue("adam_steps", out var stepText) || !long.TryParse(stepText, CultureInfo.InvariantCulture, out var adamStep))
            throw new InvalidDataException($"{Path.Combine(dir, Checkpoint.MetadataFile)}: field adam_steps is {(stepText ?? "missing")}, expected one integer");
        using var _ = no_grad();
        for (var i = 0; i < states.Count; i++)
        {
            var s = (AdamW.State)states[i];
            foreach (var (suffix, target) in new[] { ("exp_avg", s.exp_avg), ("exp_avg_sq", s.exp_avg_sq) })
            {
                var key = $"{OptimizerPrefix}{paramNames[i]}.{suffix}";
                if (!loaded.Extra.TryGetValue(key, out var saved))
                    throw new InvalidDataException($"{Path.Combine(dir, Checkpoint.WeightsFile)}: missing optimizer tensor '{key}'; the checkpoint was not written by the pretrainer");
                target.copy_(saved);
            }
            s.step = adamStep;
        }
    }

    /// <summary>Options that determine the trajectory; a resume with different values would not equal an uninterrupted run.</summary>
    private Dictionary<string, string> Fingerprint()
    {
        var o = _options;
        string S(object v) => Convert.ToString(v, CultureInfo.InvariantCulture)!;
        return new Dictionary<string, string>
        {
            ["option.preset"] = o.Preset, ["option.steps"] = S(o.Steps), ["option.batch_size"] = S(o.BatchSize),
            ["option.sequence_length"] = S(o.SequenceLength), ["option.gradient_accumulation"] = S(o.GradientAccumulation),
            ["option.learning_rate"] = S(o.LearningRate), ["option.min_lr_ratio"] = S(o.MinLrRatio), ["option.warmup_steps"] = S(o.WarmupSteps),
            ["option.schedule"] = o.Schedule, ["option.weight_decay"] = S(o.WeightDecay), ["option.beta1"] = S(o.Beta1), ["option.beta2"] = S(o.Beta2),
            ["option.grad_clip"] = S(o.GradClip), ["option.anneal_fraction"] = S(o.AnnealFraction), ["option.anneal_upsample"] = S(o.AnnealUpsample),
            ["option.seed"] = S(o.Seed), ["option.corpus_size"] = S(o.CorpusSize), ["option.data_files"] = string.Join("|", o.DataFiles.Select(Path.GetFullPath)),
        };
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

    private static string StepDirName(int step) => $"step-{step:D6}";

    private static List<string> StepDirs(string root) =>
        Directory.Exists(root)
            ? Directory.GetDirectories(root, "step-*").Where(d => File.Exists(Path.Combine(d, Checkpoint.ManifestFile))).Order(StringComparer.Ordinal).ToList()
            : [];

    private static string? LatestCheckpoint(string root) => StepDirs(root).LastOrDefault();

    private static List<string> LatestCheckpoints(string root, int k)
    {
        var dirs = StepDirs(root);
        return dirs.Skip(Math.Max(0, dirs.Count - k)).ToList();
    }

    /// <summary>Uniform average of the checkpoints' weights (optimizer tensors are left out).</summary>
    private static LlamaForCausalLM AverageCheckpoints(IReadOnlyList<string> dirs, Device device)
    {
        if (dirs.Count == 0) throw new InvalidOperationException("no checkpoint to average; the run saved none");
        var first = Checkpoint.Load(dirs[0], device);
        DisposeExtra(first);
        if (dirs.Count == 1) return first.Model;
        var sums = first.Model.state_dict();
        using var _ = no_grad();
        foreach (var dir in dirs.Skip(1))
        {
            var next = Checkpoint.Load(dir, device);
            DisposeExtra(next);
            using (next.Model)
                foreach (var (name, t) in next.Model.state_dict()) sums[name].add_(t);
        }
        foreach (var t in sums.Values) t.div_(dirs.Count);
        return first.Model;
    }

    private static void DisposeExtra(LoadedCheckpoint loaded)
    {
        foreach (var t in loaded.Extra.Values) t.Dispose();
    }

    private static Device ParseDevice(string device)
    {
        try { return torch.device(device); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"option Device is '{device}', expected cpu or cuda[:N]", nameof(device), e);
        }
    }
}
