using System.Text.Json;
using System.Text.Json.Serialization;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Inference;
using PostTrain.Core.Progress;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Dpo;

/// <summary>
/// log π_ref of every pair's chosen and rejected response, computed ONCE per (dataset, reference checkpoint, masking,
/// max length) and stored next to the dataset, so epochs and every DPO variant of a round (β, loss type, lr) reuse it
/// and no step ever forwards the reference (TRL precompute_ref_log_probs, made persistent).
/// </summary>
public sealed class ReferenceLogProbs
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private ReferenceLogProbs(FileContent content, int forwardPasses)
    {
        Content = content;
        ForwardPasses = forwardPasses;
    }

    private FileContent Content { get; }

    /// <summary>Identity of the preference dataset the values belong to (e.g. SHA-256 of its JSONL).</summary>
    public string DatasetHash => Content.DatasetHash;

    /// <summary>Identity of the reference checkpoint (its manifest hash).</summary>
    public string ReferenceHash => Content.ReferenceHash;

    /// <summary>Whether formatting tokens were left out, as <see cref="DpoOptions.MaskFormattingTokens"/>.</summary>
    public bool MaskFormatting => Content.MaskFormatting;

    /// <summary>Truncation length the sequences were scored at.</summary>
    public int MaxLength => Content.MaxLength;

    /// <summary>Pair i's log π_ref(y_w|x), summed over scored tokens.</summary>
    public IReadOnlyList<double> Chosen => Content.Chosen;

    /// <summary>Pair i's log π_ref(y_l|x).</summary>
    public IReadOnlyList<double> Rejected => Content.Rejected;

    public int Count => Content.Chosen.Length;

    /// <summary>Reference forwards spent producing this instance: 0 when it was read from the cache file.</summary>
    public int ForwardPasses { get; }

    /// <summary>The cache file for a dataset at <paramref name="datasetPath"/>: beside it, named by the reference hash and the
    /// settings that change the values. The dataset hash is checked inside the file.</summary>
    public static string CachePath(string datasetPath, string referenceHash, bool maskFormatting, int maxLength)
    {
        var refKey = referenceHash.Length > 16 ? referenceHash[..16] : referenceHash;
        return $"{datasetPath}.ref-{refKey}-{(maskFormatting ? "nofmt" : "all")}-{maxLength}.logps.json";
    }

    /// <summary>
    /// Forwards <paramref name="reference"/> over every pair (chosen and rejected in one concatenated pass per batch) without
    /// gradients.
    /// </summary>
    public static ReferenceLogProbs Compute(LlamaForCausalLM reference, IReadOnlyList<PreferenceEncoding> pairs,
        string datasetHash, string referenceHash, bool maskFormatting, int maxLength, int batchSize, int padId,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(pairs);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "expected >= 1");
        if (maxLength < 1) maxLength = reference.Config.MaxPositionEmbeddings;
        var device = reference.parameters().First().device;
        var chosen = new double[pairs.Count];
        var rejected = new double[pairs.Count];
        if (CpuLogProbs(reference, pairs, maskFormatting, maxLength, chosen, rejected) is { } calls)
        {
            progress?.Report(new StageProgress("dpo/reference", 1, 1, "pass", new Dictionary<string, double>()));
            return new ReferenceLogProbs(new FileContent(datasetHash, referenceHash, maskFormatting, maxLength, chosen, rejected), calls);
        }
        var passes = 0;
        var total = (pairs.Count + batchSize - 1) / batchSize;
        var wasTraining = reference.training;
        reference.eval();
        try
        {
            using var _ = no_grad();
            for (var start = 0; start < pairs.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var rows = Enumerable.Range(start, Math.Min(batchSize, pairs.Count - start))
                    .Select(i => ConcatenatedForward.Rows(pairs[i], maskFormatting, maxLength, i)).ToList();
                var (c, r, _) = ConcatenatedForward.LogProbs(reference, rows, padId, device);
                var (cs, rs) = (c.to_type(ScalarType.Float64).data<double>().ToArray(), r.to_type(ScalarType.Float64).data<double>().ToArray());
                cs.CopyTo(chosen, start);
                rs.CopyTo(rejected, start);
                passes++;
                progress?.Report(new StageProgress("dpo/reference", passes, total, "batch", new Dictionary<string, double>()));
            }
        }
        finally
        {
            if (wasTraining) reference.train();
        }
        return new ReferenceLogProbs(new FileContent(datasetHash, referenceHash, maskFormatting, maxLength, chosen, rejected), passes);
    }

    /// <summary>
    /// Both sides' summed target log-probs through <see cref="CpuForward"/>: every sequence unpadded, as few calls as its
    /// rows hold. Returns the calls made; null when the model cannot run there (then the batched libtorch forward does).
    /// </summary>
    private static int? CpuLogProbs(LlamaForCausalLM reference, IReadOnlyList<PreferenceEncoding> pairs, bool maskFormatting, int maxLength,
        double[] chosen, double[] rejected)
    {
        var rows = pairs.Select((p, i) => ConcatenatedForward.Rows(p, maskFormatting, maxLength, i)).ToArray();
        var sides = rows.Select(r => r.Chosen).Concat(rows.Select(r => r.Rejected)).ToArray();
        return CpuForward.TryEachSequence(reference, sides.Select(s => s.Ids).ToArray(), (i, fast, row) =>
        {
            var targets = sides[i].Targets;
            var sum = 0f;
            for (var t = 0; t < targets.Length; t++)
                if (targets[t] != TokenTargets.IgnoreIndex) sum += fast.LogProb(row + t, targets[t]);
            if (i < pairs.Count) chosen[i] = sum;
            else rejected[i - pairs.Count] = sum;
        });
    }

    /// <summary>
    /// Reads the cache at <see cref="CachePath"/> when it matches; otherwise calls <paramref name="loadReference"/> (only then is
    /// the reference checkpoint loaded), computes and writes the file. A cache for another dataset hash is recomputed.
    /// </summary>
    public static ReferenceLogProbs LoadOrCompute(string datasetPath, string datasetHash, string referenceHash,
        Func<LlamaForCausalLM> loadReference, IReadOnlyList<PreferenceEncoding> pairs, bool maskFormatting, int maxLength,
        int batchSize, int padId, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loadReference);
        var path = CachePath(datasetPath, referenceHash, maskFormatting, maxLength);
        if (File.Exists(path))
        {
            var cached = Load(path);
            if (cached.DatasetHash == datasetHash && cached.ReferenceHash == referenceHash && cached.MaskFormatting == maskFormatting
                && cached.MaxLength == maxLength && cached.Count == pairs.Count)
                return cached;
        }
        var reference = loadReference();
        var computed = Compute(reference, pairs, datasetHash, referenceHash, maskFormatting, maxLength, batchSize, padId, progress, cancellationToken);
        computed.Save(path);
        return computed;
    }

    /// <summary>Writes the values and their keys as JSON, temp-then-rename.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(Content, Json));

    public static ReferenceLogProbs Load(string path)
    {
        FileContent? content;
        try { content = JsonSerializer.Deserialize<FileContent>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a reference log-prob cache: {e.Message}", e); }
        if (content is null) throw new InvalidDataException($"{path}: empty reference log-prob cache");
        if (content.Chosen is null || content.Rejected is null || content.Chosen.Length != content.Rejected.Length)
            throw new InvalidDataException($"{path}: chosen has {content.Chosen?.Length} values and rejected {content.Rejected?.Length}, expected equal counts");
        if (string.IsNullOrEmpty(content.DatasetHash) || string.IsNullOrEmpty(content.ReferenceHash))
            throw new InvalidDataException($"{path}: dataset_hash or reference_hash is empty, expected both");
        return new ReferenceLogProbs(content, 0);
    }

    /// <summary>Checks that this cache belongs to <paramref name="pairCount"/> pairs scored with the given masking.</summary>
    public void EnsureMatches(int pairCount, bool maskFormatting, int maxLength)
    {
        if (Count != pairCount)
            throw new ArgumentException($"reference log-probs hold {Count} pairs, the dataset has {pairCount}; expected the same dataset ({DatasetHash})");
        if (MaskFormatting != maskFormatting)
            throw new ArgumentException($"reference log-probs were computed with formatting masked = {MaskFormatting}, training asks {maskFormatting}");
        if (MaxLength != maxLength)
            throw new ArgumentException($"reference log-probs were computed at max length {MaxLength}, training asks {maxLength}");
    }

    private sealed record FileContent(
        [property: JsonPropertyName("dataset_hash")] string DatasetHash,
        [property: JsonPropertyName("reference_hash")] string ReferenceHash,
        [property: JsonPropertyName("mask_formatting")] bool MaskFormatting,
        [property: JsonPropertyName("max_length")] int MaxLength,
        [property: JsonPropertyName("chosen")] double[] Chosen,
        [property: JsonPropertyName("rejected")] double[] Rejected);
}
