using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using PostTrain.Sampling;
using PostTrain.Workflows.Models;
using PostTrain.Engine.Tests.Support;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.Workflows.Tests.Models;

/// <summary><c>posttrain export</c>'s library: the output is a plain HF directory that loads back and generates or scores the same.</summary>
public sealed class ModelExporterTests : IDisposable
{
    private readonly TestHome _home = new();

    [Fact]
    public void Export_Policy_HfDirectoryLoadsBackAndGeneratesTheSame()
    {
        var source = TinyCheckpoints.Policy(Path.Combine(_home.Root, "policy"), seed: 3);
        var outDir = Path.Combine(_home.Root, "export");
        Assert.Equal(CheckpointInspector.CausalLM, ModelExporter.Export(source, outDir));
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("\"chat_template\"", File.ReadAllText(Path.Combine(outDir, "tokenizer_config.json")));

        var original = Checkpoint.Load(source);
        var exported = Checkpoint.Load(outDir);
        using var a = original.Model;
        using var b = exported.Model;
        var prompt = new ChatTemplate(exported.Tokenizer!).EncodePrompt([ChatMessage.User("what is 2 + 3?")]).Ids;
        var options = new SamplingOptions { SamplesPerPrompt = 1, Temperature = 0, MaxNewTokens = 8 };
        var expected = new Sampler(a, options).Generate([new TokenPrompt("p", prompt)]).Sequences[0].TokenIds;
        var actual = new Sampler(b, options).Generate([new TokenPrompt("p", prompt)]).Sequences[0].TokenIds;
        Assert.NotEmpty(actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Export_RewardModel_IsASequenceClassifierThatScoresTheSame()
    {
        var source = TinyCheckpoints.RewardModel(Path.Combine(_home.Root, "rm"), seed: 4);
        var outDir = Path.Combine(_home.Root, "rm-export");
        Assert.Equal(CheckpointInspector.SequenceClassification, ModelExporter.Export(source, outDir));
        var items = new (IReadOnlyList<ChatMessage>, string)[] { ([ChatMessage.User("what is 2 + 3?")], "5"), ([ChatMessage.User("hello")], "hi") };
        using var original = RM.Load(source);
        using var exported = RM.Load(outDir);
        Assert.NotNull(exported.PadTokenId);
        var expected = original.Score(items);
        var actual = exported.Score(items);
        for (var i = 0; i < items.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Export_RewardModelWithLikelihoodTerm_RefusedWithTheReason()
    {
        var source = TinyCheckpoints.RewardModel(Path.Combine(_home.Root, "rm-l"), likelihoodWeight: 1);
        var outDir = Path.Combine(_home.Root, "rm-l-export");
        var e = Assert.Throws<ArgumentException>(() => ModelExporter.Export(source, outDir));
        Assert.Contains("likelihood_weight is 1", e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Export_ToANonEmptyDirectory_Refused()
    {
        var source = TinyCheckpoints.Policy(Path.Combine(_home.Root, "policy"));
        var outDir = Directory.CreateDirectory(Path.Combine(_home.Root, "taken")).FullName;
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "mine");
        Assert.StartsWith("--out:", Assert.Throws<ArgumentException>(() => ModelExporter.Export(source, outDir)).Message);
        Assert.True(File.Exists(Path.Combine(outDir, "keep.txt")));
    }

    public void Dispose() => _home.Dispose();
}
