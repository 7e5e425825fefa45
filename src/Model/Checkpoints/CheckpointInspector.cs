using System.Text.Json;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Checkpoints;

/// <summary>
/// Checks a checkpoint directory without reading its weights: the config, every tensor's name and shape against what
/// the config implies (from the safetensors headers), and the tokenizer. A 70B checkpoint is checked in milliseconds,
/// so an import or a run refuses a bad directory before anything is copied or trained.
/// </summary>
public static class CheckpointInspector
{
    public const string CausalLM = "LlamaForCausalLM";
    /// <summary>Hugging Face's reward-model layout: <c>model.*</c> plus <c>score.weight</c> [num_labels, hidden], no lm_head.</summary>
    public const string SequenceClassification = "LlamaForSequenceClassification";
    public const string ScoreWeight = "score.weight";

    /// <summary>Throws <see cref="InvalidDataException"/> (or <see cref="FileNotFoundException"/>) naming the file, the field or tensor, and the reason.</summary>
    public static CheckpointSummary Inspect(string dir)
    {
        if (!System.IO.Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: checkpoint directory does not exist");
        var configPath = Path.Combine(dir, Checkpoint.ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: missing; a checkpoint needs a Hugging Face LlamaConfig", configPath);
        var config = LlamaConfig.Load(configPath);
        var architecture = config.Architectures.Contains(SequenceClassification) ? SequenceClassification : CausalLM;

        var expected = ExpectedShapes(config, architecture);
        if (architecture == SequenceClassification && NumLabels(configPath) is { } labels && labels != 1)
            throw new InvalidDataException($"{configPath}: num_labels is {labels}, expected 1 (a reward model gives one scalar score)");

        var files = Checkpoint.OpenWeights(dir);
        try
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var dtypes = new SortedSet<string>(StringComparer.Ordinal);
            long parameters = 0;
            foreach (var file in files)
                foreach (var name in file.Names)
                {
                    var info = file.Info(name);
                    if (!expected.TryGetValue(name, out var shape))
                    {
                        if (IsIgnored(name, config, architecture) || IsListedExtra(file, name)) continue;
                        throw new InvalidDataException($"{file.Path}: unexpected tensor '{name}' with shape {Shape(info.Shape)}; it is not a parameter of {architecture} for {configPath}");
                    }
                    if (!seen.Add(name)) throw new InvalidDataException($"{file.Path}: tensor '{name}' appears in more than one shard");
                    if (!info.Shape.SequenceEqual(shape))
                        throw new InvalidDataException($"{file.Path}: tensor '{name}' has shape {Shape(info.Shape)}, expected {Shape(shape)} from {configPath}" +
                            (name == ScoreWeight ? " (a reward model's head maps hidden_size to one score)" : ""));
                    if (info.Dtype is not ("F32" or "F16" or "BF16" or "F64"))
                        throw new InvalidDataException($"{file.Path}: tensor '{name}' has dtype {info.Dtype}, expected F32, F16 or BF16");
                    dtypes.Add(info.Dtype);
                    parameters += info.ElementCount;
                }
            var missing = expected.Keys.Where(k => !seen.Contains(k)).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{files[0].Path}: missing tensor '{missing[0]}' (expected shape {Shape(expected[missing[0]])} from {configPath})" +
                    (missing.Count > 1 ? $" and {missing.Count - 1} more" : ""));

            var tokenizer = TokenizerLoader.Load(dir);
            var hasTemplate = false;
            if (tokenizer is not null)
            {
                try { _ = new ChatTemplate(tokenizer); hasTemplate = true; }
                catch (ArgumentException) { hasTemplate = false; }
            }
            return new CheckpointSummary(dir, config, architecture, parameters, [.. dtypes], tokenizer?.GetType().Name, hasTemplate);
        }
        finally
        {
            foreach (var f in files) f.Dispose();
        }
    }

    /// <summary>
    /// Every tensor name of <paramref name="architecture"/> with its shape, as Hugging Face names them
    /// (the same set <see cref="LlamaForCausalLM"/>'s state_dict has, plus or minus the head).
    /// </summary>
    public static IReadOnlyDictionary<string, long[]> ExpectedShapes(LlamaConfig config, string architecture = CausalLM)
    {
        ArgumentNullException.ThrowIfNull(config);
        long c = config.HiddenSize, v = config.VocabSize, i = config.IntermediateSize;
        long q = config.NumAttentionHeads * (long)config.HeadDim, kv = config.NumKeyValueHeads * (long)config.HeadDim;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["model.embed_tokens.weight"] = [v, c], ["model.norm.weight"] = [c] };
        for (var l = 0; l < config.NumHiddenLayers; l++)
        {
            var p = $"model.layers.{l}.";
            shapes[p + "self_attn.q_proj.weight"] = [q, c];
            shapes[p + "self_attn.k_proj.weight"] = [kv, c];
            shapes[p + "self_attn.v_proj.weight"] = [kv, c];
            shapes[p + "self_attn.o_proj.weight"] = [c, q];
            shapes[p + "mlp.gate_proj.weight"] = [i, c];
            shapes[p + "mlp.up_proj.weight"] = [i, c];
            shapes[p + "mlp.down_proj.weight"] = [c, i];
            shapes[p + "input_layernorm.weight"] = [c];
            shapes[p + "post_attention_layernorm.weight"] = [c];
        }
        if (architecture == SequenceClassification) shapes[ScoreWeight] = [1, c];
        else if (!config.TieWordEmbeddings) shapes["lm_head.weight"] = [v, c];
        return shapes;
    }

    /// <summary>The safetensors files of a checkpoint: <c>model.safetensors</c>, or the shards its index names.</summary>
    public static IReadOnlyList<string> WeightFiles(string dir)
    {
        var files = Checkpoint.OpenWeights(dir);
        foreach (var f in files) f.Dispose();
        return [.. files.Select(f => f.Path)];
    }

    /// <summary>num_labels as HF derives it: the field if given, else the size of id2label; null when neither is there.</summary>
    private static int? NumLabels(string configPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        var root = doc.RootElement;
        if (root.TryGetProperty("num_labels", out var n) && n.TryGetInt32(out var count)) return count;
        if (root.TryGetProperty("id2label", out var map) && map.ValueKind == JsonValueKind.Object) return map.EnumerateObject().Count();
        return null;
    }

    private static bool IsListedExtra(SafeTensorsFile file, string name) =>
        file.Metadata.TryGetValue(Checkpoint.ExtraTensorsKey, out var s) && s.Split(',').Contains(name, StringComparer.Ordinal);

    // A reward model PostTrain saves as a classifier keeps its untied lm_head for the likelihood term; Hugging Face
    // loads such a directory and ignores the extra tensor, so it is no reason to refuse one.
    private static bool IsIgnored(string name, LlamaConfig config, string architecture) =>
        name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) ||
        (name == "lm_head.weight" && (architecture == SequenceClassification || config.TieWordEmbeddings));

    private static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";
}
