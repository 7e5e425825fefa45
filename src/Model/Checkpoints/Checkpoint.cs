using System.Text.Json;
using PostTrain.Model.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Model.Checkpoints;

/// <summary>
/// A checkpoint is a directory a Hugging Face LLaMA loader also reads: <c>config.json</c> (HF LlamaConfig),
/// <c>model.safetensors</c> with HF state-dict names (no <c>lm_head.weight</c> when embeddings are tied, as HF saves),
/// the tokenizer's files, optional <c>metadata.json</c> (training state, lineage), and <c>manifest.json</c> with the
/// SHA-256 and size of every file. Extra tensors (a reward model's <c>score.weight</c>) share model.safetensors and are
/// listed in its <c>__metadata__</c> so a loader tells them from unexpected ones.
/// </summary>
public static class Checkpoint
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string ShardIndexFile = "model.safetensors.index.json";
    public const string MetadataFile = "metadata.json";
    public const string ManifestFile = CheckpointManifest.FileName;
    /// <summary>HF's architecture name for a scalar-reward model: decoder + <c>score</c>, no LM head.</summary>
    public const string SequenceClassification = "LlamaForSequenceClassification";
    /// <summary>__metadata__ key of model.safetensors naming the extra tensors, comma-separated.</summary>
    internal const string ExtraTensorsKey = "posttrain.extra_tensors";

    /// <summary>
    /// Writes the checkpoint into a temp directory and renames it to <paramref name="dir"/> (replacing any old one), so a
    /// reader sees all of it or none. Equal weights, tokenizer and metadata give byte-identical files and an equal hash.
    /// </summary>
    public static void Save(string dir, LlamaForCausalLM model, ITokenizer? tokenizer = null,
        IReadOnlyDictionary<string, Tensor>? extraTensors = null, IReadOnlyDictionary<string, string>? metadata = null,
        CheckpointSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= CheckpointSaveOptions.Default;
        if (options.MaxShardBytes < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxShardBytes, "MaxShardBytes: expected >= 1");
        var config = (options.Config ?? model.Config) with
        {
            TorchDtype = options.Dtype switch { WeightsDtype.BF16 => "bfloat16", WeightsDtype.F16 => "float16", _ => "float32" },
        };
        AtomicFile.WriteDirectory(dir, tmp =>
        {
            File.WriteAllText(Path.Combine(tmp, ConfigFile), config.ToJson());

            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (name, t) in model.state_dict()) tensors[name] = t;
            var extraNames = new List<string>();
            foreach (var (name, t) in extraTensors ?? new Dictionary<string, Tensor>())
            {
                if (tensors.ContainsKey(name)) throw new ArgumentException($"extra tensor '{name}' collides with a parameter of the network", nameof(extraTensors));
                if (name.Contains(',')) throw new ArgumentException($"extra tensor name '{name}' contains ','", nameof(extraTensors));
                tensors[name] = t;
                extraNames.Add(name);
            }
            extraNames.Sort(StringComparer.Ordinal);
            var stMeta = new Dictionary<string, string> { ["format"] = "pt" };
            if (extraNames.Count > 0) stMeta[ExtraTensorsKey] = string.Join(",", extraNames);
            WriteWeights(tmp, tensors, stMeta, options);

            tokenizer?.Save(tmp);

            if (metadata is not null)
            {
                var sorted = new SortedDictionary<string, string>(metadata.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
                File.WriteAllText(Path.Combine(tmp, MetadataFile), JsonSerializer.Serialize(sorted, new JsonSerializerOptions { WriteIndented = true }));
            }

            File.WriteAllBytes(Path.Combine(tmp, ManifestFile), CheckpointManifest.Serialize(CheckpointManifest.Scan(tmp)));
        });
    }

    /// <summary>One <c>model.safetensors</c>, or shards in name order plus HF's index when the data exceeds the shard size.</summary>
    private static void WriteWeights(string dir, Dictionary<string, Tensor> tensors, Dictionary<string, string> stMeta, CheckpointSaveOptions options)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var total = names.Sum(n => SafeTensors.StoredBytes(tensors[n], options.Dtype));
        if (total <= options.MaxShardBytes)
        {
            using var stream = new FileStream(Path.Combine(dir, WeightsFile), FileMode.CreateNew);
            SafeTensors.Write(stream, tensors, stMeta, options.Dtype);
            return;
        }
        var shards = new List<List<string>> { new() };
        long filled = 0;
        foreach (var name in names)
        {
            var bytes = SafeTensors.StoredBytes(tensors[name], options.Dtype);
            if (filled > 0 && filled + bytes > options.MaxShardBytes) (shards, filled) = ([.. shards, new List<string>()], 0);
            shards[^1].Add(name);
            filled += bytes;
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var k = 0; k < shards.Count; k++)
        {
            var file = $"model-{k + 1:D5}-of-{shards.Count:D5}.safetensors";
            using (var stream = new FileStream(Path.Combine(dir, file), FileMode.CreateNew))
                SafeTensors.Write(stream, shards[k].ToDictionary(n => n, n => tensors[n], StringComparer.Ordinal), stMeta, options.Dtype);
            foreach (var n in shards[k]) weightMap[n] = file;
        }
        var index = new { metadata = new { total_size = total }, weight_map = weightMap };
        File.WriteAllText(Path.Combine(dir, ShardIndexFile), JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// SHA-256 (lower-case hex) of the checkpoint's manifest. A Hugging Face directory without a manifest gets the hash
    /// of the manifest PostTrain would write for its files, so the identity is the same either way.
    /// </summary>
    public static string ComputeHash(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: checkpoint directory does not exist");
        var manifest = Path.Combine(dir, ManifestFile);
        return File.Exists(manifest)
            ? CheckpointManifest.HashFile(manifest)
            : CheckpointManifest.HashBytes(CheckpointManifest.Serialize(CheckpointManifest.Scan(dir)));
    }

    /// <summary>
    /// Loads a PostTrain checkpoint or a Hugging Face LLaMA directory (<c>model.safetensors</c> or sharded
    /// <c>model.safetensors.index.json</c>; F32, F16 or BF16, converted to float32). The manifest, when present, is
    /// verified first. Every tensor of the network must be present with the shape the config implies; any other tensor is
    /// an error unless it is a listed extra or an HF buffer PostTrain recomputes (<c>rotary_emb.inv_freq</c>).
    /// </summary>
    public static LoadedCheckpoint Load(string dir, Device? device = null)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: checkpoint directory does not exist");
        if (File.Exists(Path.Combine(dir, ManifestFile))) CheckpointManifest.Verify(dir);

        var configPath = Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: missing; a checkpoint needs a Hugging Face LlamaConfig", configPath);
        var config = LlamaConfig.Load(configPath);

        var files = OpenWeights(dir);
        var extra = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        LlamaForCausalLM? model = null;
        try
        {
            // Every header is checked against the shapes the config implies before anything is allocated, so a lying
            // header or an oversized config is refused by name instead of filling memory.
            var expected = config.ParameterShapes();
            var source = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            var extraNames = files.SelectMany(f => f.Metadata.TryGetValue(ExtraTensorsKey, out var s) ? s.Split(',', StringSplitOptions.RemoveEmptyEntries) : [])
                .ToHashSet(StringComparer.Ordinal);
            // An HF sequence classifier stores its head as score.weight and has no LM head to load.
            var classifier = config.Architectures.Contains(SequenceClassification);
            if (classifier) extraNames.Add("score.weight");
            var extraSource = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (var file in files)
                foreach (var name in file.Names)
                {
                    var info = file.Info(name);
                    if (expected.TryGetValue(name, out var shape))
                    {
                        if (!source.TryAdd(name, file)) throw new InvalidDataException($"{file.Path}: tensor '{name}' appears in more than one shard");
                        if (!info.Shape.SequenceEqual(shape))
                            throw new InvalidDataException($"{file.Path}: tensor '{name}' has shape {Shape(info.Shape)}, expected {Shape(shape)} from {configPath}");
                        if (info.Dtype is not ("F32" or "F16" or "BF16" or "F64"))
                            throw new InvalidDataException($"{file.Path}: tensor '{name}' has dtype {info.Dtype}, expected F32, F16 or BF16");
                    }
                    else if (extraNames.Contains(name)) extraSource[name] = file;
                    else if (!IsIgnoredHfTensor(name, config))
                        throw new InvalidDataException($"{file.Path}: unexpected tensor '{name}' with shape {Shape(info.Shape)}; it is not a parameter of LlamaForCausalLM for {configPath} nor a listed extra tensor");
                }
            var hasLmHead = config.TieWordEmbeddings || source.ContainsKey("lm_head.weight");
            var missing = expected.Keys.Where(k => !source.ContainsKey(k) && !(classifier && k == "lm_head.weight")).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{WeightsDescription(dir)}: missing tensor '{missing[0]}' (expected shape {Shape(expected[missing[0]])})" +
                    (missing.Count > 1 ? $" and {missing.Count - 1} more" : ""));

            model = new LlamaForCausalLM(config);
            var parameters = model.state_dict();
            using (no_grad())
            {
                foreach (var (name, file) in source)
                {
                    using var scope = NewDisposeScope();
                    parameters[name].copy_(file.Read(name));
                }
                foreach (var (name, file) in extraSource) extra[name] = file.Read(name).DetachFromDisposeScope();
            }

            if (device is not null && device.type != DeviceType.CPU)
            {
                model.to(device);
                foreach (var k in extra.Keys.ToList())
                {
                    var moved = extra[k].to(device).DetachFromDisposeScope();
                    extra[k].Dispose();
                    extra[k] = moved;
                }
            }
            var tokenizer = TokenizerLoader.Load(dir);
            return new LoadedCheckpoint(config, model, tokenizer, extra, ReadMetadata(dir), ComputeHash(dir)) { HasLmHead = hasLmHead };
        }
        catch
        {
            model?.Dispose();
            foreach (var t in extra.Values) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var f in files) f.Dispose();
        }
    }

    internal static List<SafeTensorsFile> OpenWeights(string dir)
    {
        var single = Path.Combine(dir, WeightsFile);
        var index = Path.Combine(dir, ShardIndexFile);
        var opened = new List<SafeTensorsFile>();
        try
        {
            if (File.Exists(single))
            {
                opened.Add(SafeTensorsFile.Open(single));
            }
            else if (File.Exists(index))
            {
                foreach (var shard in ReadShardIndex(index))
                {
                    var path = Path.Combine(dir, shard);
                    if (!File.Exists(path)) throw new FileNotFoundException($"{path}: missing, but {index} maps tensors to it", path);
                    opened.Add(SafeTensorsFile.Open(path));
                }
            }
            else
            {
                throw new FileNotFoundException($"{dir}: neither {WeightsFile} nor {ShardIndexFile} exists", single);
            }
        }
        catch
        {
            foreach (var f in opened) f.Dispose();
            throw;
        }
        return opened;
    }

    /// <summary>Distinct shard file names of an HF index, in first-seen order.</summary>
    private static List<string> ReadShardIndex(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: field 'weight_map' is missing or not an object");
            var shards = new List<string>();
            foreach (var p in map.EnumerateObject())
            {
                var file = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! :
                    throw new InvalidDataException($"{path}: weight_map.{p.Name} is a {p.Value.ValueKind}, expected a file name");
                if (file.Contains('/') || file.Contains('\\') || file.Contains(".."))
                    throw new InvalidDataException($"{path}: weight_map.{p.Name} is '{file}', expected a file name in the same directory");
                if (!shards.Contains(file)) shards.Add(file);
            }
            return shards;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
    }

    private static IReadOnlyDictionary<string, string> ReadMetadata(string dir)
    {
        var path = Path.Combine(dir, MetadataFile);
        if (!File.Exists(path)) return new Dictionary<string, string>();
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: null, expected a JSON object of strings");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: expected a JSON object of strings: {e.Message}", e);
        }
    }

    /// <summary>Buffers HF may persist that PostTrain recomputes, and the tied head some exporters still write.</summary>
    private static bool IsIgnoredHfTensor(string name, LlamaConfig config) =>
        name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) ||
        (config.TieWordEmbeddings && name == "lm_head.weight");

    private static string WeightsDescription(string dir) =>
        File.Exists(Path.Combine(dir, WeightsFile)) ? Path.Combine(dir, WeightsFile) : Path.Combine(dir, ShardIndexFile);

    private static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";
}
