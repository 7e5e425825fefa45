using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using static TorchSharp.torch;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.RewardModel.Tests;

public sealed class RewardModelCheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "posttrain-rm-tests-" + Guid.NewGuid().ToString("N"));

    internal static ByteBpeTokenizer Tokenizer() =>
        ByteBpeTokenizer.Train(["what is 2 + 3? the answer is 5.", "hello there, how are you today?", "sort 3 1 2 gives 1 2 3"], 300);

    private static IReadOnlyList<ChatMessage> Prompt(string text) => [ChatMessage.User(text)];

    [Fact]
    public void SaveThenLoad_SameScoresHashAndTokenizer()
    {
        using var rm = RewardModelTests.TinyRewardModel(11, Tokenizer());
        var items = new (IReadOnlyList<ChatMessage>, string)[] { (Prompt("what is 2 + 3?"), "5"), (Prompt("hello"), "hi there") };
        var before = rm.Score(items);
        var hash = rm.Save(Path.Combine(_dir, "rm"), new Dictionary<string, string> { ["round"] = "1" });

        using var loaded = RM.Load(Path.Combine(_dir, "rm"));
        Assert.Equal(hash, loaded.CheckpointHash);
        Assert.Equal(Checkpoint.ComputeHash(Path.Combine(_dir, "rm")), hash);
        var after = loaded.Score(items);
        Assert.Equal(before, after);
        Assert.Equal("1", Checkpoint.Load(Path.Combine(_dir, "rm")).Metadata["round"]);
    }

    [Fact]
    public void SaveThenLoad_KeepsTheLikelihoodWeight()
    {
        using var rm = RewardModelTests.TinyRewardModel(17, Tokenizer(), likelihoodWeight: 0.75);
        var items = new (IReadOnlyList<ChatMessage>, string)[] { (Prompt("what is 2 + 3?"), "5"), (Prompt("hello"), "hi there") };
        var before = rm.Score(items);
        rm.Save(Path.Combine(_dir, "rm-lik"));
        using var loaded = RM.Load(Path.Combine(_dir, "rm-lik"));
        Assert.Equal(0.75, loaded.LikelihoodWeight);
        Assert.Equal(before, loaded.Score(items));
        Assert.Equal("0.75", Checkpoint.Load(Path.Combine(_dir, "rm-lik")).Metadata[RM.LikelihoodWeightKey]);
    }

    [Fact]
    public void Load_PolicyCheckpoint_ErrorSaysNotARewardModel()
    {
        manual_seed(1);
        using var policy = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        Checkpoint.Save(Path.Combine(_dir, "policy"), policy);
        var e = Assert.Throws<InvalidDataException>(() => RM.Load(Path.Combine(_dir, "policy")));
        Assert.Contains("kind is missing, expected 'reward_model'", e.Message);

        using var fresh = RM.FromPolicy(Path.Combine(_dir, "policy"));
        Assert.True(fresh.model.embed_tokens.weight!.allclose(policy.model.embed_tokens.weight!));
    }

    [Fact]
    public void ScoreChat_EqualsScoreOfTemplatedIds()
    {
        var tok = Tokenizer();
        using var rm = RewardModelTests.TinyRewardModel(12, tok);
        var template = new ChatTemplate(tok);
        var chat = rm.Score([(Prompt("what is 2 + 3?"), "5"), (Prompt("hello there"), "how are you")]);
        var ids = rm.Score([template.EncodeExample(Prompt("what is 2 + 3?"), "5").Ids, template.EncodeExample(Prompt("hello there"), "how are you").Ids]);
        Assert.Equal(ids, chat);
    }

    [Fact]
    public void ScoreChat_WithoutTokenizer_ClearError()
    {
        using var rm = RewardModelTests.TinyRewardModel(13);
        var e = Assert.Throws<InvalidOperationException>(() => rm.Score([(Prompt("x"), "y")]));
        Assert.Contains("no tokenizer", e.Message);
    }

    [Fact]
    public void PreferenceComparisons_EditedPair_ThreeOrderedComparisons()
    {
        var template = new ChatTemplate(Tokenizer());
        var pairs = new[]
        {
            new PreferencePair(Prompt("q"), "good", "bad") { Edited = "best", Margin = 2 },
            new PreferencePair(Prompt("q2"), "yes", "no"),
        };
        var c = PreferenceComparisons.Build(pairs, template);
        Assert.Equal(4, c.Count);
        int[] Ids(string prompt, string r) => template.EncodeExample(Prompt(prompt), r).Ids;
        Assert.Equal(Ids("q", "best"), c[0].Chosen);
        Assert.Equal(Ids("q", "good"), c[0].Rejected);
        Assert.Equal(Ids("q", "bad"), c[1].Rejected);
        Assert.Equal(Ids("q", "good"), c[2].Chosen);
        Assert.Equal(2f, c[0].Margin);
        Assert.Equal(0f, c[3].Margin);
        Assert.Equal(Ids("q2", "yes"), c[3].Chosen);
        // Every comparison knows where its response starts, for the language-modelling term.
        Assert.All(c.Take(3), x => Assert.Equal(template.EncodeExample(Prompt("q"), "best").PromptLength, x.ResponseStart));
        Assert.Equal(template.EncodeExample(Prompt("q2"), "yes").PromptLength, c[3].ResponseStart);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
