using System.Text.Json;
using System.Text.Json.Serialization;
using PostTrain.Core.Progress;
using PostTrain.Model;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Trainers.Distillation;

/// <summary>
/// The teacher's k most likely next tokens and their log-probs at every response position of a dataset, computed ONCE
/// per (dataset, teacher, k, max length) and kept in a file, as the DPO reference log-probs are
/// (<see cref="Dpo.ReferenceLogProbs"/>): epochs and students reuse it, and no training step forwards the teacher.
/// Example i holds P_i × k ids and log-probs, P_i its positions whose target is a response token, in order.
/// </summary>
public sealed class TeacherTopK
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private TeacherTopK(FileContent content, int forwardPasses) => (Content, ForwardPasses) = (content, forwardPasses);

    private FileContent Content { get; }

    public string DatasetHash => Content.DatasetHash;
    public string TeacherHash => Content.TeacherHash;
    public int K => Content.K;
    public int MaxLength => Content.MaxLength;
    public int Count => Content.Ids.Length;

    /// <summary>Teacher forwards spent producing this instance: 0 when it was read from the file.</summary>
    public int ForwardPasses { get; }

    /// <summary>Example <paramref name="index"/>'s top-k ids and log-probs, each P × k row-major.</summary>
    public (int[] Ids, float[] LogProbs) Example(int index) => (Content.Ids[index], Content.LogProbs[index]);

    public static string CachePath(string cacheDir, string datasetHash, string teacherHash, int k, int maxLength) =>
        Path.Combine(cacheDir, $"{Short(datasetHash)}-teacher-{Short(teacherHash)}-k{k}-{maxLength}.topk.json");

    private static string Short(string hash) => hash.Length > 16 ? hash[..16] : hash;

    /// <summary>Forwards <paramref name="teacher"/> over <paramref name="rows"/> (ids and next-token targets, as
    /// <see cref="TokenTargets.Response"/> gives them) without gradients and keeps the top-k where a target exists.</summary>
    public static TeacherTopK Compute(LlamaForCausalLM teacher, IReadOnlyList<(int[] Ids, int[] Targets)> rows, int k,
        string datasetHash, string teacherHash, int maxLength, int batchSize, int padId,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (k > teacher.Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(k), k, $"top-k is larger than the teacher's vocabulary ({teacher.Config.VocabSize})");
        var device = teacher.parameters().First().device;
        var ids = new int[rows.Count][];
        var logProbs = new float[rows.Count][];
        var passes = 0;
        var wasTraining = teacher.training;
        teacher.eval();
        try
        {
            using var _ = no_grad();
            for (var start = 0; start < rows.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var chunk = rows.Skip(start).Take(batchSize).ToList();
                using var batch = TokenBatch.Pad(chunk, padId, device);
                var (top, topIds) = F.log_softmax(batch.Forward(teacher), -1).topk(k, dim: -1); // (B, T, K) each
                var topValues = top.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
                var topIndices = topIds.to_type(ScalarType.Int32).cpu().data<int>().ToArray();
                var T = (int)batch.Length;
                for (var b = 0; b < chunk.Count; b++)
                {
                    var positions = Enumerable.Range(0, chunk[b].Targets.Length).Where(t => chunk[b].Targets[t] != TokenTargets.IgnoreIndex).ToList();
                    var (rowIds, rowLogProbs) = (new int[positions.Count * k], new float[positions.Count * k]);
                    for (var p = 0; p < positions.Count; p++)
                    {
                        Array.Copy(topIndices, (b * T + positions[p]) * k, rowIds, p * k, k);
                        Array.Copy(topValues, (b * T + positions[p]) * k, rowLogProbs, p * k, k);
                    }
                    (ids[start + b], logProbs[start + b]) = (rowIds, rowLogProbs);
                }
                passes++;
                progress?.Report(new StageProgress("distill/teacher", Math.Min(start + batchSize, rows.Count), rows.Count, "example", new Dictionary<string, double>()));
            }
        }
        finally
        {
            if (wasTraining) teacher.train();
        }
        return new TeacherTopK(new FileContent(datasetHash, teacherHash, k, maxLength, ids, logProbs), passes);
    }

    /// <summary>Reads <paramref name="path"/> when it matches the dataset, teacher, k, length and example count;
    /// otherwise loads the teacher (only then), computes and writes the file.</summary>
    public static TeacherTopK LoadOrCompute(string path, Func<LlamaForCausalLM> loadTeacher, IReadOnlyList<(int[] Ids, int[] Targets)> rows, int k,
        string datasetHash, string teacherHash, int maxLength, int batchSize, int padId,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loadTeacher);
        ArgumentNullException.ThrowIfNull(rows);
        if (File.Exists(path))
        {
            var cached = Load(path);
            if (cached.DatasetHash == datasetHash && cached.TeacherHash == teacherHash && cached.K == k && cached.MaxLength == maxLength && cached.Count == rows.Count)
                return cached;
        }
        using var teacher = loadTeacher();
        var computed = Compute(teacher, rows, k, datasetHash, teacherHash, maxLength, batchSize, padId, progress, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(computed.Content, Json));
        return computed;
    }

    public static TeacherTopK Load(string path)
    {
        FileContent? content;
        try { content = JsonSerializer.Deserialize<FileContent>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a teacher top-k cache: {e.Message}", e); }
        if (content?.Ids is null || content.LogProbs is null || content.Ids.Length != content.LogProbs.Length || content.K < 1)
            throw new InvalidDataException($"{path}: ids and log_probs must list the same examples with k >= 1");
        for (var i = 0; i < content.Ids.Length; i++)
            if (content.Ids[i].Length != content.LogProbs[i].Length || content.Ids[i].Length % content.K != 0)
                throw new InvalidDataException($"{path}: example {i} has {content.Ids[i].Length} ids and {content.LogProbs[i].Length} log-probs, expected equal multiples of k = {content.K}");
        return new TeacherTopK(content, 0);
    }

    private sealed record FileContent(
        [property: JsonPropertyName("dataset_hash")] string DatasetHash,
        [property: JsonPropertyName("teacher_hash")] string TeacherHash,
        [property: JsonPropertyName("k")] int K,
        [property: JsonPropertyName("max_length")] int MaxLength,
        [property: JsonPropertyName("ids")] int[][] Ids,
        [property: JsonPropertyName("log_probs")] float[][] LogProbs);
}
