using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Core.Progress;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Sft;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Distillation;

/// <summary>
/// An SFT variant that trains a student on a teacher's token distribution instead of the data's one-hot targets
/// (Hinton et al. 2015; Llama 3 and Gemma 2 distil small models from larger ones): forward KL on the teacher's top-k at
/// every response position of SFT conversations, the top-k computed once and cached (<see cref="TeacherTopK"/>).
/// Teacher and student must share the vocabulary: the teacher's token ids index the student's logits.
/// </summary>
public sealed class DistillationTrainer
{
    public const string StageName = "distill";

    private readonly DistillationOptions _options;
    private readonly ILogger _logger;

    public DistillationTrainer(DistillationOptions options, ILogger<DistillationTrainer>? logger = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Trains <paramref name="student"/> in place on <paramref name="rows"/> (<see cref="SftTrainer"/>'s rows:
    /// ids and response targets) against <paramref name="teacher"/>'s cached top-k of the same rows.</summary>
    public DistillationResult Train(LlamaForCausalLM student, IReadOnlyList<(int[] Ids, int[] Targets)> rows, TeacherTopK teacher, int padId,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(teacher);
        if (rows.Count == 0) throw new ArgumentException("distillation needs at least one example, got 0", nameof(rows));
        if (teacher.Count != rows.Count) throw new ArgumentException($"the teacher's top-k holds {teacher.Count} examples, the dataset has {rows.Count}; expected the same dataset ({teacher.DatasetHash})", nameof(teacher));
        var device = student.parameters().First().device;
        using var loop = new TrainingLoop(student, _options, rows.Count);
        var history = new List<double>(loop.TotalSteps);
        double epochLoss = double.NaN;
        var step = 0;
        student.train();
        for (var epoch = 0; epoch < _options.Epochs; epoch++)
        {
            double sum = 0, tokens = 0;
            var order = loop.ShuffledOrder();
            for (var start = 0; start < order.Length; start += _options.BatchSize, step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var lr = loop.SetLearningRate(step);
                var chosen = order.Skip(start).Take(_options.BatchSize).ToList();
                var positions = chosen.Sum(i => Positions(rows[i]));
                var parts = loop.Split(chosen);
                var lossValue = 0.0;
                var gradNorm = loop.Step(parts.Count, k =>
                {
                    var (loss, n) = Loss(student, parts[k], rows, teacher, padId, device);
                    // Each micro-batch's mean weighted by its share of the step's positions: the step's mean gradient.
                    loss = loss * (n / (double)positions);
                    lossValue += loss.item<float>();
                    return loss;
                });
                history.Add(lossValue);
                (sum, tokens) = (sum + lossValue * positions, tokens + positions);
                progress?.Report(new StageProgress(StageName, step + 1, loop.TotalSteps, "step", new Dictionary<string, double>
                {
                    ["loss"] = lossValue, ["learning_rate"] = lr, ["grad_norm"] = gradNorm,
                }));
            }
            epochLoss = sum / Math.Max(tokens, 1);
            _logger.LogInformation("distillation epoch {Epoch}/{Epochs}: KL {Loss:F4}", epoch + 1, _options.Epochs, epochLoss);
        }
        loop.MergeAdapters();
        return new DistillationResult(epochLoss, history[0], step, teacher.ForwardPasses, history);
    }

    private static int Positions((int[] Ids, int[] Targets) row) => row.Targets.Count(t => t != TokenTargets.IgnoreIndex);

    /// <summary>Mean KL over the response positions of the given rows, and how many positions that is.</summary>
    private (Tensor Loss, int Positions) Loss(LlamaForCausalLM student, IReadOnlyList<int> indices, IReadOnlyList<(int[] Ids, int[] Targets)> rows,
        TeacherTopK teacher, int padId, Device device)
    {
        var chunk = indices.Select(i => rows[i]).ToList();
        using var batch = TokenBatch.Pad(chunk, padId, device);
        int B = chunk.Count, T = (int)batch.Length, K = teacher.K;
        var ids = new long[B * T * K];
        var logProbs = new float[B * T * K];
        var mask = new bool[B * T];
        var n = 0;
        for (var b = 0; b < B; b++)
        {
            var (topIds, topLogProbs) = teacher.Example(indices[b]);
            var p = 0;
            for (var t = 0; t < chunk[b].Targets.Length; t++)
            {
                if (chunk[b].Targets[t] == TokenTargets.IgnoreIndex) continue;
                if ((p + 1) * K > topIds.Length)
                    throw new InvalidDataException($"the teacher's top-k of example {indices[b]} covers {topIds.Length / K} positions, the example has more; recompute the cache");
                mask[b * T + t] = true;
                for (var j = 0; j < K; j++) (ids[(b * T + t) * K + j], logProbs[(b * T + t) * K + j]) = (topIds[p * K + j], topLogProbs[p * K + j]);
                p++;
            }
            n += p;
        }
        var (loss, _) = DistillationLoss.Compute(batch.Forward(student), tensor(ids, [B, T, K], device: device),
            tensor(logProbs, [B, T, K], device: device), tensor(mask, [B, T], device: device));
        return (loss, n);
    }

    /// <summary>
    /// The stage on disk: the student and teacher checkpoints (one vocabulary, checked by encoding every example with both
    /// tokenizers), the teacher's top-k cached under <paramref name="cacheDir"/>, training, and the student saved to
    /// <paramref name="outputDir"/> with its metadata.
    /// </summary>
    public DistillationResult Run(string studentDir, string teacherDir, string datasetPath, string cacheDir, string outputDir, Device? device = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var student = Checkpoint.Load(studentDir, device);
        using var model = student.Model;
        var tokenizer = RunFiles.RequireTokenizer(student, studentDir);
        var examples = SftDataset.Read(datasetPath);
        if (examples.Count == 0) throw new InvalidDataException($"{datasetPath}: no SFT examples, expected at least one");
        var template = new ChatTemplate(tokenizer);
        var maxLength = _options.MaxLength > 0 ? _options.MaxLength : model.Config.MaxPositionEmbeddings;
        var rows = SftTrainer.Prepare(examples.Select(e => template.EncodeExample(e.Prompt, e.Response)).ToList(), maxLength, "distillation");
        var teacherHash = Checkpoint.ComputeHash(teacherDir);
        var datasetHash = RunFiles.Sha256(datasetPath);
        var topK = TeacherTopK.LoadOrCompute(TeacherTopK.CachePath(cacheDir, datasetHash, teacherHash, _options.TopK, maxLength),
            () => LoadTeacher(teacherDir, device, model.Config, rows, examples), rows, _options.TopK, datasetHash, teacherHash, maxLength,
            _options.BatchSize, tokenizer.PadId, progress, cancellationToken);
        _logger.LogInformation("distilling {Count} examples from teacher {Teacher} into {Student}", rows.Count, teacherHash, student.Hash);
        var result = Train(model, rows, topK, tokenizer.PadId, progress, cancellationToken);
        Checkpoint.Save(outputDir, model, tokenizer, metadata: new Dictionary<string, string>
        {
            ["stage"] = StageName,
            ["parent_checkpoint"] = student.Hash,
            ["teacher_checkpoint"] = teacherHash,
            ["dataset_sha256"] = datasetHash,
            ["options"] = RunFiles.ToJson(_options),
            ["metrics"] = RunFiles.MetricsJson(new Dictionary<string, double> { ["train/kl"] = result.TrainLoss, ["train/initial_kl"] = result.InitialLoss, ["train/steps"] = result.Steps }),
        });
        return result with { CheckpointDir = outputDir };
    }

    private static LlamaForCausalLM LoadTeacher(string teacherDir, Device? device, LlamaConfig studentConfig, IReadOnlyList<(int[] Ids, int[] Targets)> rows, IReadOnlyList<SftExample> examples)
    {
        var teacher = Checkpoint.Load(teacherDir, device);
        var tokenizer = RunFiles.RequireTokenizer(teacher, teacherDir);
        if (teacher.Config.VocabSize != studentConfig.VocabSize)
            throw new ArgumentException($"{teacherDir}: the teacher's vocab_size is {teacher.Config.VocabSize}, the student's {studentConfig.VocabSize}; distillation needs one vocabulary");
        var template = new ChatTemplate(tokenizer);
        for (var i = 0; i < examples.Count; i++)
            if (!template.EncodeExample(examples[i].Prompt, examples[i].Response).Ids.Take(rows[i].Ids.Length).SequenceEqual(rows[i].Ids))
                throw new ArgumentException($"{teacherDir}: the teacher's tokenizer encodes example {i} differently from the student's; distillation needs one vocabulary");
        return teacher.Model;
    }
}
