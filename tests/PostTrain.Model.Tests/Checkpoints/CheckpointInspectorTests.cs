using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tests.Numerics;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Checkpoints;

/// <summary>Header-only checks of a checkpoint directory, as <c>posttrain model import</c> runs them.</summary>
public class CheckpointInspectorTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ExpectedShapes_EqualTheNetworksStateDict(bool tied)
    {
        var config = LlamaConfig.Preset("tiny") with { TieWordEmbeddings = tied };
        using var model = new LlamaForCausalLM(config);
        var actual = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = CheckpointInspector.ExpectedShapes(config);
        Assert.Equal(actual.Keys.Order(), expected.Keys.Order());
        foreach (var (name, shape) in expected) Assert.Equal(actual[name], shape);
    }

    [Theory]
    [InlineData("hf-tiny-bf16", "BF16")]
    [InlineData("hf-tiny-f16-sharded-tied", "F16")]
    public void Inspect_HfFixture_ReadsHeadersAndFindsNoTokenizer(string fixture, string dtype)
    {
        var dir = Path.Combine(FixtureFiles.Dir, fixture);
        var summary = CheckpointInspector.Inspect(dir);
        Assert.Equal(CheckpointInspector.CausalLM, summary.Architecture);
        Assert.Equal([dtype], summary.Dtypes);
        Assert.Null(summary.Tokenizer);
        using var loaded = Checkpoint.Load(dir).Model;
        Assert.Equal(loaded.parameters().Sum(p => p.numel()), summary.Parameters);
    }

    [Fact]
    public void Inspect_WrongShape_NamesTheFileTensorAndBothShapes()
    {
        using var dir = new TempDir();
        manual_seed(0);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        Checkpoint.Save(dir["ck"], model);
        // The config says 3 layers' worth of width where the weights have 64: every q_proj is now the wrong shape.
        File.WriteAllText(dir["ck/config.json"], (model.Config with { HiddenSize = 96, NumAttentionHeads = 4 }).ToJson());
        var e = Assert.Throws<InvalidDataException>(() => CheckpointInspector.Inspect(dir["ck"]));
        Assert.Contains("model.safetensors: tensor '", e.Message);
        Assert.Contains("expected [", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void Inspect_MissingTensor_NamesIt()
    {
        using var dir = new TempDir();
        manual_seed(0);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        Checkpoint.Save(dir["ck"], model);
        File.Delete(dir["ck/manifest.json"]);
        var tensors = SafeTensors.ReadAll(dir["ck/model.safetensors"]);
        tensors.Remove("model.norm.weight");
        SafeTensors.Write(dir["ck/model.safetensors"], tensors);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointInspector.Inspect(dir["ck"]));
        Assert.Contains("missing tensor 'model.norm.weight' (expected shape [64]", e.Message);
    }
}
