using System.Text.Json;
using PostTrain.Model.Checkpoints;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Model.Tests.Numerics;

/// <summary>
/// rope_scaling (llama3, linear, dynamic, yarn), attention/MLP biases and head_dim ≠ hidden/heads against the plain-torch
/// float64 reference in tests/fixtures-gen/make_fixtures.py, written from transformers' documented formulas.
/// </summary>
public class ScaledCheckpointNumericsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("linear", 512)]
    [InlineData("dynamic", 256)]
    [InlineData("llama3", 512)]
    [InlineData("yarn", 512)]
    [InlineData("yarn_mscale", 512)]
    public void RopeScaling_CosSin_MatchPyTorch(string kind, int maxPositions)
    {
        var f = FixtureFiles.Load("rope_scaling.safetensors", out var meta);
        var scaling = JsonSerializer.Deserialize<RopeScaling>(meta[kind])!;
        var config = new LlamaConfig { HiddenSize = 64, NumAttentionHeads = 4, NumKeyValueHeads = 4, RopeScaling = scaling, MaxPositionEmbeddings = maxPositions }.Validate();
        Assert.Equal(16, config.HeadDim);
        using var rope = new RotaryEmbedding(config);
        var (cos, sin) = rope.forward(f["positions"]);
        var err = Math.Max(FixtureFiles.MaxAbsDiff(cos, f[$"cos_{kind}"]), FixtureFiles.MaxAbsDiff(sin, f[$"sin_{kind}"]));
        output.WriteLine($"{kind}: max |cos/sin − PyTorch| {err:E2}");
        Assert.True(err < 1e-4, $"{kind}: cos/sin differ from PyTorch by {err:E3}");
        // The scaling must matter at these positions, or the test could not fail.
        using var plain = new RotaryEmbedding(16, 10000.0);
        Assert.True(FixtureFiles.MaxAbsDiff(plain.forward(f["positions"]).cos, f[$"cos_{kind}"]) > 1e-2);
    }

    [Theory]
    [InlineData("hf-tiny-llama3-bias-headdim")]
    [InlineData("hf-tiny-yarn-tied")]
    public void FullForward_ScaledCheckpoint_LogProbsMatchPyTorch(string dir)
    {
        var f = FixtureFiles.Load("llama_scaled_forward.safetensors");
        var loaded = Checkpoint.Load(Path.Combine(FixtureFiles.Dir, dir));
        using var model = loaded.Model;
        model.eval();
        Assert.NotNull(loaded.Config.RopeScaling);
        Assert.Equal(16, loaded.Config.HeadDim);
        Assert.NotEqual(loaded.Config.HiddenSize / loaded.Config.NumAttentionHeads, loaded.Config.HeadDim);
        using var _ = no_grad();
        var ids = f["input_ids"];
        var logp = F.log_softmax(model.forward(ids).to_type(ScalarType.Float64), -1)[.., ..^1].gather(-1, ids[.., 1..].unsqueeze(-1)).squeeze(-1);
        var err = FixtureFiles.MaxAbsDiff(logp, f[$"logprobs_{dir}"]);
        output.WriteLine($"{dir}: max |log p − PyTorch| {err:E2}");
        Assert.True(err < 1e-4, $"{dir}: log-probs differ from PyTorch by {err:E3}, expected < 1e-4");
    }

    [Fact]
    public void FullForward_WithoutRopeScaling_DiffersFromReference()
    {
        // The same checkpoint read as plain RoPE must miss the reference: the fixture exercises the scaling.
        var f = FixtureFiles.Load("llama_scaled_forward.safetensors");
        var dir = Path.Combine(FixtureFiles.Dir, "hf-tiny-llama3-bias-headdim");
        var loaded = Checkpoint.Load(dir);
        using var scaled = loaded.Model;
        using var plain = new LlamaForCausalLM(loaded.Config with { RopeScaling = null });
        using var _ = no_grad();
        foreach (var (name, t) in plain.state_dict()) t.copy_(scaled.state_dict()[name]);
        var ids = f["input_ids"];
        var logp = F.log_softmax(plain.forward(ids).to_type(ScalarType.Float64), -1)[.., ..^1].gather(-1, ids[.., 1..].unsqueeze(-1)).squeeze(-1);
        Assert.True(FixtureFiles.MaxAbsDiff(logp, f["logprobs_hf-tiny-llama3-bias-headdim"]) > 1e-3);
    }
}
