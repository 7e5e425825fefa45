using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using static TorchSharp.torch;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.RewardModel.Tests;

/// <summary>A user's own reward model in Hugging Face's LlamaForSequenceClassification layout.</summary>
public sealed class SequenceClassificationCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "posttrain-seqcls-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes <paramref name="rm"/> as HF does: config naming the architecture, model.* and score.weight, no lm_head.</summary>
    internal static string WriteHfDirectory(RM rm, string dir, ITokenizer? tokenizer, int? padId, long[]? scoreShape = null, int numLabels = 1)
    {
        Directory.CreateDirectory(dir);
        var config = JsonNode.Parse(rm.Config.ToJson())!.AsObject();
        config["architectures"] = new JsonArray("LlamaForSequenceClassification");
        config["num_labels"] = numLabels;
        config["pad_token_id"] = padId;
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        using var scope = NewDisposeScope();
        var tensors = rm.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        if (scoreShape is not null) tensors["score.weight"] = randn(scoreShape);
        Assert.DoesNotContain("lm_head.weight", tensors.Keys);
        SafeTensors.Write(Path.Combine(dir, "model.safetensors"), tensors);
        tokenizer?.Save(dir);
        return dir;
    }

    [Fact]
    public void Load_HfSequenceClassificationDirectory_ScoresAsTheModelItWasWrittenFrom()
    {
        var tokenizer = RewardModelCheckpointTests.Tokenizer();
        using var rm = RewardModelTests.TinyRewardModel(5, tokenizer);
        var dir = WriteHfDirectory(rm, Path.Combine(_dir, "hf-rm"), tokenizer, tokenizer.PadId);
        IReadOnlyList<ChatMessage> Prompt(string text) => [ChatMessage.User(text)];
        var items = new (IReadOnlyList<ChatMessage>, string)[] { (Prompt("what is 2 + 3?"), "5"), (Prompt("what is 2 + 3?"), "6"), (Prompt("hello"), "hi there") };

        using var loaded = RM.Load(dir);
        Assert.Equal(tokenizer.PadId, loaded.PadTokenId);
        Assert.Equal(0, loaded.LikelihoodWeight);
        Assert.Equal(Checkpoint.ComputeHash(dir), loaded.CheckpointHash);
        var expected = rm.Score(items);
        var actual = loaded.Score(items);
        for (var i = 0; i < items.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Score_WithPadId_ReadsTheLastTokenThatIsNotPad_AsHuggingFaceDoes()
    {
        using var rm = RewardModelTests.TinyRewardModel(7);
        var dir = WriteHfDirectory(rm, Path.Combine(_dir, "hf-pad"), null, padId: 0);
        using var loaded = RM.Load(dir);
        // A row that carries pad ids inside its length is read where HF reads it: at its last non-pad token.
        var scores = loaded.Score([[5, 6, 7], [5, 6, 7, 0, 0], [5, 6]], batchSize: 3);
        Assert.Equal(scores[0], scores[1], 5);
        Assert.NotEqual(scores[0], scores[2]);
        // The PostTrain RM it came from reads the last position, pad or not.
        var plain = rm.Score([[5, 6, 7], [5, 6, 7, 0, 0]]);
        Assert.NotEqual(plain[0], plain[1]);
    }

    [Fact]
    public void Load_ScoreOfTwoLabels_RefusedNamingTheTensor()
    {
        using var rm = RewardModelTests.TinyRewardModel(9);
        var dir = WriteHfDirectory(rm, Path.Combine(_dir, "hf-2"), null, padId: 0, scoreShape: [2, rm.Config.HiddenSize], numLabels: 1);
        var e = Assert.Throws<InvalidDataException>(() => RM.Load(dir));
        Assert.Contains("tensor 'score.weight' has shape [2, 64], expected [1, 64]", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void Load_NumLabelsTwo_RefusedNamingTheField()
    {
        using var rm = RewardModelTests.TinyRewardModel(9);
        var dir = WriteHfDirectory(rm, Path.Combine(_dir, "hf-labels"), null, padId: 0, numLabels: 2);
        var e = Assert.Throws<InvalidDataException>(() => RM.Load(dir));
        Assert.Contains("config.json: num_labels is 2, expected 1", e.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
