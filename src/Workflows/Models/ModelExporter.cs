using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using static TorchSharp.torch;

namespace PostTrain.Workflows.Models;

/// <summary>
/// Writes a stored checkpoint as a plain Hugging Face directory: <c>config.json</c>, safetensors, the tokenizer files
/// (with the chat template in <c>tokenizer_config.json</c>), and none of PostTrain's bookkeeping (manifest, metadata).
/// A policy is written as <c>LlamaForCausalLM</c>; a reward model as <c>LlamaForSequenceClassification</c>
/// (<c>score.weight</c> [1, hidden], <c>num_labels: 1</c>), which is what <c>AutoModelForSequenceClassification</c> reads.
/// </summary>
public static class ModelExporter
{
    private static readonly string[] Bookkeeping = [Checkpoint.ManifestFile, Checkpoint.MetadataFile];

    /// <summary>Exports <paramref name="checkpointDir"/> to <paramref name="outDir"/> (temp-then-rename); returns the architecture written.</summary>
    /// <exception cref="ArgumentException"><paramref name="outDir"/> exists and is not empty, or the checkpoint cannot be expressed in HF's format.</exception>
    public static string Export(string checkpointDir, string outDir)
    {
        if (File.Exists(outDir) || (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any()))
            throw new ArgumentException($"--out: {outDir} exists and is not empty; give a new directory");
        var summary = CheckpointInspector.Inspect(checkpointDir);
        // PostTrain's own reward models (they carry metadata.json) are rewritten as HF's classifier; a user's HF one is copied.
        var convert = ModelCatalog.RoleOf(checkpointDir) == ModelCatalog.RewardModelRole && File.Exists(Path.Combine(checkpointDir, Checkpoint.MetadataFile));
        AtomicFile.WriteDirectory(outDir, tmp =>
        {
            foreach (var file in Directory.EnumerateFiles(checkpointDir))
            {
                var name = Path.GetFileName(file);
                if (name.StartsWith('.') || Bookkeeping.Contains(name)) continue;
                if (convert && (name == Checkpoint.ConfigFile || name.EndsWith(".safetensors", StringComparison.Ordinal) || name == Checkpoint.ShardIndexFile)) continue;
                File.Copy(file, Path.Combine(tmp, name));
            }
            if (convert) WriteSequenceClassification(checkpointDir, summary.Config, tmp);
        });
        return convert ? CheckpointInspector.SequenceClassification : summary.Architecture;
    }

    /// <summary>A reward model PostTrain saved (a causal LM plus an extra <c>score.weight</c>) as HF's sequence classifier.</summary>
    private static void WriteSequenceClassification(string dir, LlamaConfig config, string target)
    {
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, Checkpoint.MetadataFile)))!.AsObject();
        if (metadata["likelihood_weight"]?.GetValue<string>() is { } text
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var lambda) && lambda != 0)
            throw new ArgumentException($"{Path.Combine(dir, Checkpoint.MetadataFile)}: likelihood_weight is {text}: this reward model adds λ·log π(response) from its language-model head, " +
                $"which {CheckpointInspector.SequenceClassification} cannot express; train it with likelihoodWeight 0 (as `posttrain reward` does) to export it");
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        json["architectures"] = new JsonArray(CheckpointInspector.SequenceClassification);
        json["num_labels"] = 1;
        json["id2label"] = new JsonObject { ["0"] = "LABEL_0" };
        json["label2id"] = new JsonObject { ["LABEL_0"] = 0 };
        // HF reads each row at its last token that is not the pad, so the pad must be an id no scored sequence ends with.
        if (config.PadTokenId is null && PostTrain.Model.Tokenization.TokenizerLoader.Load(dir) is { } tokenizer) json["pad_token_id"] = tokenizer.PadId;
        File.WriteAllText(Path.Combine(target, Checkpoint.ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var path in CheckpointInspector.WeightFiles(dir))
            foreach (var (name, tensor) in SafeTensors.ReadAll(path))
                if (name != "lm_head.weight") tensors[name] = tensor;
        SafeTensors.Write(Path.Combine(target, Checkpoint.WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }
}
