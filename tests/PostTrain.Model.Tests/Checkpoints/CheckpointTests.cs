using System.Text.Json;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Checkpoints;

public class CheckpointTests
{
    private static LlamaForCausalLM Tiny(int seed = 1, bool tied = false)
    {
        manual_seed(seed);
        return new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { TieWordEmbeddings = tied });
    }

    private static Tensor Logits(LlamaForCausalLM model)
    {
        using var _ = no_grad();
        model.eval();
        return model.forward(tensor(new long[,] { { 1, 5, 9, 200, 3 } }));
    }

    [Fact]
    public void SaveLoad_RoundTrip_SameLogitsExtraMetadataAndHfNames()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        var score = randn(1, 64);
        Checkpoint.Save(dir["ck"], model, extraTensors: new Dictionary<string, Tensor> { ["score.weight"] = score },
            metadata: new Dictionary<string, string> { ["step"] = "42", ["parent"] = "abc" });

        Assert.Equal(new[] { "config.json", "manifest.json", "metadata.json", "model.safetensors" },
            Directory.GetFiles(dir["ck"]).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
        using (var file = SafeTensorsFile.Open(dir["ck/model.safetensors"]))
        {
            var expected = model.state_dict().Keys.Append("score.weight").Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(expected, file.Names.ToArray());
            Assert.Contains("model.layers.1.self_attn.k_proj.weight", file.Names);
            Assert.All(file.Names, n => Assert.Equal("F32", file.Info(n).Dtype));
        }
        using var hfConfig = JsonDocument.Parse(File.ReadAllText(dir["ck/config.json"]));
        Assert.Equal("llama", hfConfig.RootElement.GetProperty("model_type").GetString());

        var loaded = Checkpoint.Load(dir["ck"]);
        using var back = loaded.Model;
        Assert.Equal(model.Config, loaded.Config with { Architectures = model.Config.Architectures });
        Assert.True(Logits(back).equal(Logits(model)).all().item<bool>());
        Assert.True(loaded.Extra["score.weight"].equal(score).all().item<bool>());
        Assert.Equal("42", loaded.Metadata["step"]);
        Assert.Null(loaded.Tokenizer);
        Assert.Equal(Checkpoint.ComputeHash(dir["ck"]), loaded.Hash);
        Assert.Matches("^[0-9a-f]{64}$", loaded.Hash);
    }

    [Fact]
    public void Save_TiedEmbeddings_DoesNotStoreLmHead()
    {
        using var dir = new TempDir();
        using var model = Tiny(tied: true);
        Checkpoint.Save(dir["ck"], model);
        using (var file = SafeTensorsFile.Open(dir["ck/model.safetensors"]))
        {
            Assert.DoesNotContain("lm_head.weight", file.Names);
            Assert.Contains("model.embed_tokens.weight", file.Names);
        }
        using var back = Checkpoint.Load(dir["ck"]).Model;
        Assert.True(Logits(back).equal(Logits(model)).all().item<bool>());
    }

    [Fact]
    public void Save_SameWeightsTwice_ByteIdenticalAndEqualHash()
    {
        using var dir = new TempDir();
        using var a = Tiny(seed: 7);
        using var b = Tiny(seed: 7);
        using var c = Tiny(seed: 8);
        var meta = new Dictionary<string, string> { ["z"] = "1", ["a"] = "2" };
        Checkpoint.Save(dir["a"], a, metadata: meta);
        Checkpoint.Save(dir["b"], b, metadata: meta.Reverse().ToDictionary());
        Checkpoint.Save(dir["c"], c, metadata: meta);
        foreach (var f in Directory.GetFiles(dir["a"]).Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir["a"], f!)), File.ReadAllBytes(Path.Combine(dir["b"], f!)));
        Assert.Equal(Checkpoint.ComputeHash(dir["a"]), Checkpoint.ComputeHash(dir["b"]));
        Assert.NotEqual(Checkpoint.ComputeHash(dir["a"]), Checkpoint.ComputeHash(dir["c"]));
    }

    [Fact]
    public void SaveLoad_WithTokenizer_RoundTripsTokenizerAndHashesItsFiles()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        var corpus = Enumerable.Range(0, 200).Select(i => $"the answer to {i} plus {i + 1} is {2 * i + 1}.");
        var tok = ByteBpeTokenizer.Train(corpus, 300);
        Checkpoint.Save(dir["ck"], model, tok);
        var manifest = File.ReadAllText(dir["ck/manifest.json"]);
        foreach (var f in Directory.GetFiles(dir["ck"]).Select(Path.GetFileName).Where(f => f != "manifest.json"))
            Assert.Contains($"\"{f}\"", manifest);
        var loaded = Checkpoint.Load(dir["ck"]);
        loaded.Model.Dispose();
        Assert.NotNull(loaded.Tokenizer);
        Assert.Equal(tok.Encode("the answer to 17 is 35"), loaded.Tokenizer!.Encode("the answer to 17 is 35"));
    }

    [Fact]
    public void Load_TruncatedWeights_ThrowsNamingFileAndSizes()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        Checkpoint.Save(dir["ck"], model);
        var path = dir["ck/model.safetensors"];
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir["ck"]));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains($"{bytes.Length - 100} bytes, expected {bytes.Length}", e.Message);
    }

    [Fact]
    public void Load_TamperedByte_ThrowsHashMismatchNamingFile()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        Checkpoint.Save(dir["ck"], model);
        var path = dir["ck/model.safetensors"];
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir["ck"]));
        Assert.Contains(path, e.Message);
        Assert.Contains("SHA-256", e.Message);
    }

    /// <summary>An HF-style directory (no manifest) holding <paramref name="tensors"/>, so the tensor checks run.</summary>
    private static string HfDir(TempDir dir, LlamaConfig config, Dictionary<string, Tensor> tensors)
    {
        var d = dir["hf"];
        Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(d, "config.json"), config.ToJson());
        SafeTensors.Write(Path.Combine(d, "model.safetensors"), tensors);
        return d;
    }

    [Fact]
    public void Load_MissingTensor_ThrowsNamingTensorAndShape()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        var sd = new Dictionary<string, Tensor>(model.state_dict());
        sd.Remove("model.layers.1.mlp.up_proj.weight");
        var d = HfDir(dir, model.Config, sd);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(d));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("missing tensor 'model.layers.1.mlp.up_proj.weight' (expected shape [176, 64])", e.Message);
    }

    [Fact]
    public void Load_WrongShape_ThrowsNamingTensorActualAndExpected()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        var sd = new Dictionary<string, Tensor>(model.state_dict()) { ["model.layers.0.self_attn.k_proj.weight"] = zeros(64, 64) };
        var d = HfDir(dir, model.Config, sd);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(d));
        Assert.Contains(Path.Combine(d, "model.safetensors"), e.Message);
        Assert.Contains("'model.layers.0.self_attn.k_proj.weight' has shape [64, 64], expected [32, 64]", e.Message);
    }

    [Fact]
    public void Load_UnexpectedTensor_ThrowsNamingIt_ButIgnoresRotaryBuffer()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        var sd = new Dictionary<string, Tensor>(model.state_dict()) { ["model.layers.0.self_attn.rotary_emb.inv_freq"] = ones(8) };
        var d = HfDir(dir, model.Config, sd);
        Checkpoint.Load(d).Model.Dispose();

        sd["model.layers.0.self_attn.q_norm.weight"] = ones(16);
        d = HfDir(dir, model.Config, sd);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(d));
        Assert.Contains("unexpected tensor 'model.layers.0.self_attn.q_norm.weight' with shape [16]", e.Message);
    }

    [Fact]
    public void Load_BadConfigField_ThrowsNamingConfigFileAndField()
    {
        using var dir = new TempDir();
        using var model = Tiny();
        Checkpoint.Save(dir["ck"], model);
        // A bad config in a manifest-free copy, so the config check (not the hash check) fires.
        var d = HfDir(dir, model.Config, new Dictionary<string, Tensor>(model.state_dict()));
        File.WriteAllText(Path.Combine(d, "config.json"), File.ReadAllText(Path.Combine(d, "config.json")).Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5"));
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(d));
        Assert.Contains(Path.Combine(d, "config.json"), e.Message);
        Assert.Contains("num_attention_heads is 5", e.Message);
    }

    [Fact]
    public void Save_OverExistingCheckpoint_ReplacesItWhole()
    {
        using var dir = new TempDir();
        using var a = Tiny(seed: 1);
        using var b = Tiny(seed: 2);
        Checkpoint.Save(dir["ck"], a, metadata: new Dictionary<string, string> { ["x"] = "1" });
        Checkpoint.Save(dir["ck"], b);
        Assert.False(File.Exists(dir["ck/metadata.json"]));
        Assert.Equal([dir["ck"]], Directory.GetDirectories(dir.Path)); // no temp or old directory left behind
        using var back = Checkpoint.Load(dir["ck"]).Model;
        Assert.True(Logits(back).equal(Logits(b)).all().item<bool>());
    }
}
