using System.Text.Json.Nodes;

namespace PostTrain.Model.Tests.Network;

/// <summary>A config key that changes the maths is either implemented or refused by name, never ignored.</summary>
public class LlamaConfigFidelityTests
{
    private static string With(string key, JsonNode? value)
    {
        var json = JsonNode.Parse(LlamaConfig.Preset("tiny").ToJson())!.AsObject();
        json[key] = value;
        return json.ToJsonString();
    }

    private static InvalidDataException Refused(string json) =>
        Assert.Throws<InvalidDataException>(() => LlamaConfig.FromJson(json, "ckpt/config.json"));

    [Theory]
    [InlineData("sliding_window", "4096", "sliding_window is 4096")]
    [InlineData("attention_dropout", "0.1", "attention_dropout is 0.1")]
    [InlineData("partial_rotary_factor", "0.5", "partial_rotary_factor is 0.5")]
    [InlineData("rope_interleaved", "true", "rope_interleaved is true")]
    [InlineData("final_logit_softcapping", "30.0", "final_logit_softcapping is not supported")]
    [InlineData("quantization_config", "{\"quant_method\":\"bitsandbytes\"}", "quantization_config is")]
    public void FromJson_MathChangingKey_IsRefusedByName(string key, string value, string expected)
    {
        var e = Refused(With(key, JsonNode.Parse(value)));
        Assert.Contains("ckpt/config.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("sliding_window", "null")]
    [InlineData("attention_dropout", "0.0")]
    [InlineData("use_cache", "true")]
    [InlineData("transformers_version", "\"4.45.0\"")]
    [InlineData("pretraining_tp", "1")]
    public void FromJson_HarmlessKey_IsAcceptedAndKept(string key, string value)
    {
        var c = LlamaConfig.FromJson(With(key, JsonNode.Parse(value)), "config.json");
        Assert.Contains($"\"{key}\"", c.ToJson());
    }

    [Theory]
    [InlineData("{\"rope_type\":\"longrope\",\"factor\":4.0}", "rope_scaling.rope_type is \"longrope\"")]
    [InlineData("{\"type\":\"su\",\"factor\":4.0}", "rope_scaling.type is \"su\"")]
    [InlineData("{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0}", "rope_scaling.original_max_position_embeddings is missing")]
    [InlineData("{\"rope_type\":\"linear\",\"factor\":2.0,\"low_freq_factor\":1.0}", "rope_scaling.low_freq_factor is set, but rope type linear does not use it")]
    [InlineData("{\"rope_type\":\"dynamic\",\"factor\":2.0,\"short_factor\":[1.0]}", "rope_scaling.short_factor is not supported")]
    [InlineData("{\"rope_type\":\"yarn\",\"factor\":0.5}", "rope_scaling.factor is 0.5")]
    public void FromJson_BadRopeScaling_IsRefusedByName(string scaling, string expected)
    {
        var e = Refused(With("rope_scaling", JsonNode.Parse(scaling)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void FromJson_Llama32RopeScaling_RoundTrips()
    {
        var scaling = "{\"factor\":32.0,\"high_freq_factor\":4.0,\"low_freq_factor\":1.0,\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"}";
        var c = LlamaConfig.FromJson(With("rope_scaling", JsonNode.Parse(scaling)), "config.json");
        Assert.Equal("llama3", c.RopeScaling!.Kind);
        Assert.Equal(c.RopeScaling, LlamaConfig.FromJson(c.ToJson(), "again").RopeScaling);
        Assert.Equal(c.ToJson(), LlamaConfig.FromJson(c.ToJson(), "again").ToJson());
    }

    [Theory]
    [InlineData("mistral", "4096", "sliding_window is 4096")]
    [InlineData("qwen2", "null", "model_type is \"qwen2\"")]
    public void FromJson_OtherModelType_IsRefusedByName(string modelType, string window, string expected)
    {
        var json = JsonNode.Parse(With("model_type", modelType))!.AsObject();
        json["sliding_window"] = JsonNode.Parse(window);
        Assert.Contains(expected, Refused(json.ToJsonString()).Message);
    }

    [Fact]
    public void FromJson_AbsurdSizes_RefusedBeforeAllocating()
    {
        var json = JsonNode.Parse(With("num_hidden_layers", 100_000))!.AsObject();
        json["hidden_size"] = 65536;
        json["intermediate_size"] = 65536;
        var e = Refused(json.ToJsonString());
        Assert.Contains("refused before allocating", e.Message);
    }

    [Fact]
    public void Network_BiasesAndHeadDim_HaveHfShapes()
    {
        var c = LlamaConfig.Preset("tiny") with { AttentionBias = true, MlpBias = true, ExplicitHeadDim = 32 };
        using var model = new LlamaForCausalLM(c);
        var sd = model.state_dict();
        var expected = c.ParameterShapes();
        Assert.Equal(expected.Keys.Order(), sd.Keys.Order());
        foreach (var (name, shape) in expected) Assert.Equal(shape, sd[name].shape);
        Assert.Equal([4 * 32L, 64], sd["model.layers.0.self_attn.q_proj.weight"].shape);
        Assert.Equal(0, sd["model.layers.1.mlp.down_proj.bias"].abs().sum().item<float>());
        Assert.Equal(c.ParameterCount, model.ParameterCount());
    }
}
