using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.RewardModel;

/// <summary>
/// A user's own reward model as Hugging Face saves <c>LlamaForSequenceClassification</c>: <c>config.json</c> naming that
/// architecture with <c>num_labels: 1</c>, <c>model.*</c> and <c>score.weight</c> [1, hidden] in safetensors (single or
/// sharded), no lm_head. It scores as HF does: at each row's last token that is not <c>pad_token_id</c>.
/// </summary>
public static class SequenceClassificationCheckpoint
{
    /// <summary>True when <paramref name="dir"/>'s config names LlamaForSequenceClassification.</summary>
    public static bool Is(string dir)
    {
        var configPath = Path.Combine(dir, Checkpoint.ConfigFile);
        return File.Exists(configPath) && LlamaConfig.Load(configPath).Architectures.Contains(CheckpointInspector.SequenceClassification);
    }

    /// <summary>Throws naming the file and tensor when a shape is wrong (e.g. <c>score.weight</c> [2, hidden] of a two-label classifier).</summary>
    public static RewardModel Load(string dir, Device? device = null)
    {
        var summary = CheckpointInspector.Inspect(dir);
        if (summary.Architecture != CheckpointInspector.SequenceClassification)
            throw new InvalidDataException($"{Path.Combine(dir, Checkpoint.ConfigFile)}: architectures is [{string.Join(", ", summary.Config.Architectures)}], expected {CheckpointInspector.SequenceClassification}");
        var config = summary.Config;
        var backbone = new LlamaForCausalLM(config);
        Tensor? score = null;
        try
        {
            var parameters = backbone.state_dict();
            using (no_grad())
            {
                foreach (var path in CheckpointInspector.WeightFiles(dir))
                {
                    using var file = SafeTensorsFile.Open(path);
                    foreach (var name in file.Names)
                    {
                        using var scope = NewDisposeScope();
                        if (name == CheckpointInspector.ScoreWeight) score = file.Read(name).to_type(ScalarType.Float32).DetachFromDisposeScope();
                        else if (parameters.TryGetValue(name, out var target)) target.copy_(file.Read(name));
                    }
                }
                // No lm_head in a classifier: the tied embedding stands in, so the head is deterministic, not random.
                if (backbone.lm_head is { } head) head.weight!.copy_(backbone.model.embed_tokens.weight!);
            }
            if (device is not null && device.type != DeviceType.CPU) backbone.to(device);
            var rm = new RewardModel(backbone, TokenizerLoader.Load(dir), score)
            {
                PadTokenId = config.PadTokenId,
                CheckpointHash = Checkpoint.ComputeHash(dir),
            };
            return rm;
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
        finally
        {
            score?.Dispose();
        }
    }
}
