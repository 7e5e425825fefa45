using System.Text.Json;
using PostTrain.Model.Checkpoints;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Checkpoints;

/// <summary>BF16/F16 and sharded saving, and configs or headers that lie about sizes.</summary>
public class CheckpointFormatTests
{
    private static LlamaForCausalLM Tiny(int seed = 3, bool bias = false)
    {
        manual_seed(seed);
        return new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { AttentionBias = bias, MlpBias = bias });
    }

    private static Tensor Logits(LlamaForCausalLM model)
    {
        using var _ = no_grad();
        model.eval();
        return model.forward(tensor(new long[,] { { 1, 5, 9, 200, 3, 77 } }));
    }

    [Theory]
    [InlineData(WeightsDtype.BF16, "BF16", "bfloat16")]
    [InlineData(WeightsDtype.F16, "F16", "float16")]
    public void SaveLoad_HalfDtype_StoresThatDtypeAndRoundTripsItsRounding(WeightsDtype dtype, string stored, string torchDtype)
    {
        using var dir = new TempDir();
        using var model = Tiny();
        Checkpoint.Save(dir["ck"], model, options: new CheckpointSaveOptions { Dtype = dtype });
        using (var file = SafeTensorsFile.Open(dir["ck/model.safetensors"]))
            Assert.All(file.Names, n => Assert.Equal(stored, file.Info(n).Dtype));
        Assert.Contains($"\"torch_dtype\": \"{torchDtype}\"", File.ReadAllText(dir["ck/config.json"]));
        Assert.True(new FileInfo(dir["ck/model.safetensors"]).Length < model.ParameterCount() * 2 + 10_000);

        var loaded = Checkpoint.Load(dir["ck"]);
        using var back = loaded.Model;
        var half = dtype == WeightsDtype.BF16 ? ScalarType.BFloat16 : ScalarType.Float16;
        foreach (var (name, p) in model.state_dict())
            Assert.True(back.state_dict()[name].equal(p.to_type(half).to_type(ScalarType.Float32)).all().item<bool>(), name);
        // Saving the loaded weights again in the same dtype is lossless: the bytes repeat.
        Checkpoint.Save(dir["again"], back, options: new CheckpointSaveOptions { Dtype = dtype });
        Assert.Equal(File.ReadAllBytes(dir["ck/model.safetensors"]), File.ReadAllBytes(dir["again/model.safetensors"]));
    }

    [Fact]
    public void SaveLoad_AboveShardSize_WritesHfIndexAndLoadsSameLogits()
    {
        using var dir = new TempDir();
        using var model = Tiny(bias: true);
        Checkpoint.Save(dir["ck"], model, options: new CheckpointSaveOptions { MaxShardBytes = 150_000 });
        Assert.False(File.Exists(dir["ck/model.safetensors"]));
        using var index = JsonDocument.Parse(File.ReadAllText(dir["ck/model.safetensors.index.json"]));
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var shards = map.Values.Distinct().Order().ToArray();
        Assert.True(shards.Length >= 3, $"{shards.Length} shards");
        Assert.Equal(shards.Select((_, k) => $"model-{k + 1:D5}-of-{shards.Length:D5}.safetensors"), shards);
        Assert.Equal(model.state_dict().Keys.Order(), map.Keys.Order());
        var total = index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64();
        Assert.Equal(model.ParameterCount() * 4, total);
        foreach (var shard in shards)
        {
            using var f = SafeTensorsFile.Open(dir[$"ck/{shard}"]);
            Assert.All(f.Names, n => Assert.Equal(shard, map[n]));
        }

        var loaded = Checkpoint.Load(dir["ck"]);
        using var back = loaded.Model;
        Assert.True(Logits(back).equal(Logits(model)).all().item<bool>());
        Assert.Equal(Checkpoint.ComputeHash(dir["ck"]), loaded.Hash);
    }

    [Fact]
    public void Load_ConfigClaimingHugeSizes_RefusedNamingATensorBeforeAllocating()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        Checkpoint.Save(dir["ck"], model);
        File.Delete(dir["ck/manifest.json"]);
        // 30 layers × 16384 wide: 1e11 parameters fit the ceiling but not this 0.5 MB file.
        var lying = model.Config with { HiddenSize = 16384, IntermediateSize = 16384, NumHiddenLayers = 30 };
        File.WriteAllText(dir["ck/config.json"], lying.ToJson());
        var before = GC.GetTotalMemory(false);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir["ck"]));
        Assert.Contains("tensor 'lm_head.weight' has shape [384, 64], expected [384, 16384]", e.Message);
        Assert.True(GC.GetTotalMemory(false) - before < 200_000_000);
    }

    [Fact]
    public void Load_HeaderShapeLyingAboutData_RefusedNamingTensor()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        Checkpoint.Save(dir["ck"], model);
        File.Delete(dir["ck/manifest.json"]);
        var path = dir["ck/model.safetensors"];
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength);
        // The header claims a 1e9-row embedding; its byte span no longer matches, which is refused before any read.
        var lying = header.Replace("\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[384,64]", "\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[1000000000,64]");
        Assert.NotEqual(header, lying);
        var lyingBytes = System.Text.Encoding.UTF8.GetBytes(lying.PadRight((lying.Length + 7) / 8 * 8));
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)lyingBytes.Length), .. lyingBytes, .. bytes[(8 + headerLength)..]]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir["ck"]));
        Assert.Contains("model.embed_tokens.weight", e.Message);
    }
}
