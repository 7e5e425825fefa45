using PostTrain.Model.Checkpoints;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Numerics;

/// <summary>The network's pieces against PyTorch float64 references computed from the same stored inputs.</summary>
public class ReferenceNumericsTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    private void Check(string what, Tensor actual, Tensor expected)
    {
        var rel = FixtureFiles.MaxRelativeDiff(actual, expected);
        output.WriteLine($"{what}: max abs diff {FixtureFiles.MaxAbsDiff(actual, expected):E2}, max rel diff {rel:E2}");
        Assert.True(rel < Tolerance, $"{what}: max relative diff {rel:E3} vs PyTorch, expected < {Tolerance:E0}");
    }

    private static void Assign(nn.Module module, IReadOnlyDictionary<string, Tensor> weights)
    {
        var sd = module.state_dict();
        using var _ = no_grad();
        foreach (var (name, t) in sd)
        {
            Assert.True(weights.ContainsKey(name), $"fixture lacks '{name}'");
            t.copy_(weights[name]);
        }
    }

    [Fact]
    public void RmsNorm_MatchesPyTorch()
    {
        var f = FixtureFiles.Load("rmsnorm.safetensors", out var meta);
        using var norm = new RmsNorm(16, double.Parse(meta["eps"], System.Globalization.CultureInfo.InvariantCulture));
        Assign(norm, new Dictionary<string, Tensor> { ["weight"] = f["weight"] });
        Check("RMSNorm", norm.forward(f["x"]), f["y"]);
    }

    [Theory]
    [InlineData(10000.0)]
    [InlineData(500000.0)]
    public void Rope_RotateHalfAtTheta_MatchesPyTorch(double theta)
    {
        var f = FixtureFiles.Load("rope.safetensors");
        using var rope = new RotaryEmbedding(8, theta);
        var (cos, sin) = rope.forward(f["positions"]);
        Check($"RoPE theta={theta}", RotaryEmbedding.Apply(f["x"], cos, sin), f[$"y_theta{(long)theta}"]);
    }

    [Fact]
    public void SwiGluMlp_MatchesPyTorch()
    {
        var f = FixtureFiles.Load("mlp.safetensors");
        using var mlp = new Mlp(new LlamaConfig { HiddenSize = 16, IntermediateSize = 40, NumAttentionHeads = 2, NumKeyValueHeads = 2 });
        Assign(mlp, f);
        Check("SwiGLU MLP", mlp.forward(f["x"]), f["y"]);
    }

    [Fact]
    public void GqaCausalAttention_MatchesPyTorch()
    {
        var f = FixtureFiles.Load("attention.safetensors", out var meta);
        var c = new LlamaConfig
        {
            HiddenSize = int.Parse(meta["hidden_size"]),
            NumAttentionHeads = int.Parse(meta["num_attention_heads"]),
            NumKeyValueHeads = int.Parse(meta["num_key_value_heads"]),
            RopeTheta = double.Parse(meta["rope_theta"], System.Globalization.CultureInfo.InvariantCulture),
        };
        Assert.NotEqual(c.NumAttentionHeads, c.NumKeyValueHeads); // the fixture must exercise GQA
        using var attn = new Attention(c);
        Assign(attn, f);
        using var rope = new RotaryEmbedding(c.HeadDim, c.RopeTheta);
        var (cos, sin) = rope.forward(f["positions"]);
        Check("GQA attention", attn.forward(f["x"], cos, sin, null, null, 0), f["y"]);
    }

    [Theory]
    [InlineData("hf-tiny-bf16")]
    [InlineData("hf-tiny-f16-sharded-tied")]
    public void FullForward_HfDirectoryThroughCheckpointLoad_MatchesPyTorch(string dir)
    {
        var f = FixtureFiles.Load("llama_forward.safetensors");
        var loaded = Checkpoint.Load(Path.Combine(FixtureFiles.Dir, dir));
        using var model = loaded.Model;
        model.eval();
        Assert.Null(loaded.Tokenizer);
        Assert.Equal(dir.Contains("tied"), loaded.Config.TieWordEmbeddings);
        Assert.Equal(500000.0, loaded.Config.RopeTheta);
        using var _ = no_grad();
        Check($"LLaMA forward ({dir})", model.forward(f["input_ids"]), f[$"logits_{dir}"]);
    }
}
