using System.Text.Json;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using static TorchSharp.torch;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.RewardModel.Tests;

/// <summary>The reward model is saved and read as HF's LlamaForSequenceClassification.</summary>
public sealed class SequenceClassificationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "posttrain-seqcls-tests-" + Guid.NewGuid().ToString("N"));
    private static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    [Fact]
    public void Load_HfSequenceClassifier_ScoresEqualPyTorchReference()
    {
        // Untied, no lm_head: what HF saves for LlamaForSequenceClassification; scores read at the last non-pad token.
        var f = SafeTensors.ReadAll(Path.Combine(Fixtures, "seqcls_scores.safetensors"));
        using var rm = RM.Load(Path.Combine(Fixtures, "hf-tiny-seqcls"));
        Assert.Equal(0, rm.LikelihoodWeight);
        var ids = f["input_ids"].data<long>().ToArray();
        var lengths = f["lengths"].data<long>().ToArray();
        var T = (int)f["input_ids"].shape[1];
        var sequences = lengths.Select((n, b) => ids.Skip(b * T).Take((int)n).Select(x => (int)x).ToArray()).ToArray();
        var scores = rm.Score(sequences);
        var expected = f["scores"].data<float>().ToArray();
        for (var i = 0; i < scores.Length; i++) Assert.True(Math.Abs(scores[i] - expected[i]) < 1e-4, $"row {i}: {scores[i]} vs PyTorch {expected[i]}");
    }

    [Fact]
    public void Save_WritesHfSequenceClassificationLayout()
    {
        using var rm = RewardModelTests.TinyRewardModel(21, RewardModelCheckpointTests.Tokenizer());
        rm.Save(Path.Combine(_dir, "rm"));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "rm", "config.json")));
        var root = config.RootElement;
        Assert.Equal("LlamaForSequenceClassification", root.GetProperty("architectures")[0].GetString());
        Assert.Equal(1, root.GetProperty("num_labels").GetInt32());
        Assert.Equal(rm.Tokenizer!.PadId, root.GetProperty("pad_token_id").GetInt32());
        using var file = SafeTensorsFile.Open(Path.Combine(_dir, "rm", "model.safetensors"));
        Assert.Equal([1L, rm.Config.HiddenSize], file.Info("score.weight").Shape);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", file.Names);
    }

    [Fact]
    public void SaveBf16_ThenLoad_ScoresEqualTheRoundedModel()
    {
        using var rm = RewardModelTests.TinyRewardModel(22, RewardModelCheckpointTests.Tokenizer(), likelihoodWeight: 0.5);
        rm.Save(Path.Combine(_dir, "bf16"), options: new CheckpointSaveOptions { Dtype = WeightsDtype.BF16 });
        using var loaded = RM.Load(Path.Combine(_dir, "bf16"));
        using (no_grad())
        {
            foreach (var (_, p) in rm.named_parameters()) p.copy_(p.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32));
            foreach (var (_, p) in rm.Backbone.named_parameters()) p.copy_(p.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32));
        }
        int[][] seqs = [[1, 5, 9, 40, 3], [1, 7, 8]];
        Assert.Equal(rm.Score(seqs, [2, 1]), loaded.Score(seqs, [2, 1]));
        Assert.Equal(0.5, loaded.LikelihoodWeight);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
