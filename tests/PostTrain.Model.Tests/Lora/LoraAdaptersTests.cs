using System.Text.Json;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Lora;
using PostTrain.Model.Tests.Checkpoints;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Lora;

public class LoraAdaptersTests
{
    private static readonly Tensor Ids = tensor(new long[,] { { 1, 5, 9, 200, 3, 77, 12 }, { 4, 4, 8, 15, 16, 23, 42 } });

    private static LlamaForCausalLM Tiny(int seed = 5)
    {
        manual_seed(seed);
        var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { AttentionBias = true });
        model.eval();
        return model;
    }

    private static Tensor Logits(LlamaForCausalLM model)
    {
        using var _ = no_grad();
        return model.forward(Ids);
    }

    /// <summary>Gives every B a random value so the adapters change the output (B starts at 0).</summary>
    private static void Perturb(LoraAdapters adapters, int seed = 9)
    {
        manual_seed(seed);
        using var _ = no_grad();
        foreach (var p in adapters.Parameters().Where(p => p.shape[1] == adapters.Config.Rank && p.shape[0] != adapters.Config.Rank))
            p.copy_(randn_like(p) * 0.05);
    }

    [Fact]
    public void Attach_FreshAdapters_EqualBaseAndOnlyAdaptersTrain()
    {
        using var model = Tiny();
        var before = Logits(model);
        using var lora = LoraAdapters.Attach(model, new LoraConfig { Rank = 4, Alpha = 8 });
        Assert.True(Logits(model).equal(before).all().item<bool>());
        Assert.Equal(2 * 7 * 2, lora.Parameters().Count());
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));

        model.train();
        Perturb(lora);
        var loss = model.forward(Ids).pow(2).mean();
        loss.backward();
        Assert.All(lora.Parameters(), p => Assert.NotNull(p.grad));
        Assert.All(model.parameters(), p => Assert.True(p.grad is null));
    }

    [Fact]
    public void Adapted_EqualsBasePlusScaledBA_AndDisabledEqualsBase()
    {
        using var model = Tiny();
        var baseLogits = Logits(model);
        var config = new LoraConfig { Rank = 4, Alpha = 12, TargetModules = ["q_proj", "v_proj", "down_proj"] };
        using var lora = LoraAdapters.Attach(model, config);
        Perturb(lora);
        var adapted = Logits(model);
        Assert.True((adapted - baseLogits).abs().max().item<float>() > 1e-3, "the adapters must change the output");

        lora.Enabled = false;
        Assert.True(Logits(model).equal(baseLogits).all().item<bool>(), "adapters off must give the base exactly");
        lora.Enabled = true;

        // An independent model whose weights are W + (alpha / r)·B·A, built from the saved adapter's tensors.
        using var dir = new TempDir();
        lora.Save(dir["adapter"]);
        using var reference = Tiny();
        var tensors = SafeTensors.ReadAll(dir["adapter/adapter_model.safetensors"]);
        using (no_grad())
            foreach (var (name, w) in reference.named_parameters())
            {
                if (!name.EndsWith(".weight", StringComparison.Ordinal)) continue;
                var target = name[..^".weight".Length];
                var a = LoraAdapters.PeftName(target, "A");
                if (tensors.ContainsKey(a)) w.add_(12.0 / 4 * tensors[LoraAdapters.PeftName(target, "B")].matmul(tensors[a]));
            }
        var expected = Logits(reference);
        Assert.True((adapted - expected).abs().max().item<float>() < 1e-4);

        lora.Merge();
        var merged = Logits(model);
        Assert.True((merged - expected).abs().max().item<float>() < 1e-4);
        Assert.True((merged - adapted).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void SaveLoad_PeftLayout_RoundTripsTheAdaptedForward()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        var config = new LoraConfig { Rank = 2, Alpha = 4, UseRsLora = true };
        using var lora = LoraAdapters.Attach(model, config);
        Perturb(lora);
        var adapted = Logits(model);
        lora.Save(dir["adapter"]);

        using (var file = SafeTensorsFile.Open(dir["adapter/adapter_model.safetensors"]))
        {
            Assert.Equal([2L, 64], file.Info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").Shape);
            Assert.Equal([176L, 2], file.Info("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight").Shape);
            Assert.Equal(2 * 7 * 2, file.Names.Count);
        }
        using var json = JsonDocument.Parse(File.ReadAllText(dir["adapter/adapter_config.json"]));
        Assert.Equal(2, json.RootElement.GetProperty("r").GetInt32());
        Assert.Equal("LORA", json.RootElement.GetProperty("peft_type").GetString());
        Assert.True(json.RootElement.GetProperty("use_rslora").GetBoolean());

        using var fresh = Tiny();
        using var loaded = LoraAdapters.Load(dir["adapter"], fresh);
        Assert.True(Logits(fresh).equal(adapted).all().item<bool>());
    }

    [Theory]
    [InlineData("\"use_dora\": true", "use_dora is True")]
    [InlineData("\"bias\": \"all\"", "bias is all")]
    [InlineData("\"rank_pattern\": {\"q_proj\": 8}", "rank_pattern is")]
    [InlineData("\"target_modules\": [\"q_proj\", \"lm_head\"]", "target_modules is [q_proj, lm_head]")]
    public void Load_UnsupportedPeftOption_RefusedByName(string field, string expected)
    {
        using var dir = new TempDir();
        using var model = Tiny();
        using (var lora = LoraAdapters.Attach(model, new LoraConfig { Rank = 2 })) lora.Save(dir["adapter"]);
        var path = dir["adapter/adapter_config.json"];
        var text = File.ReadAllText(path);
        var node = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
        var patch = System.Text.Json.Nodes.JsonNode.Parse("{" + field + "}")!.AsObject();
        foreach (var (k, v) in patch.ToList())
        {
            patch.Remove(k);
            node[k] = v;
        }
        text = node.ToJsonString();
        File.WriteAllText(path, text);
        using var fresh = Tiny();
        var e = Assert.Throws<InvalidDataException>(() => LoraAdapters.Load(dir["adapter"], fresh));
        Assert.Contains("adapter_config.json", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
