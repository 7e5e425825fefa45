using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tests.Numerics;

namespace PostTrain.Model.Tests.Checkpoints;

/// <summary>Hugging Face directories written by tests/fixtures-gen/make_fixtures.py (no manifest, BF16 / sharded F16).</summary>
public class HfDirectoryTests
{
    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    [Fact]
    public void ComputeHash_NoManifest_StableAndChangesWithContent()
    {
        using var dir = new TempDir();
        CopyDir(Path.Combine(FixtureFiles.Dir, "hf-tiny-bf16"), dir["hf"]);
        var h1 = Checkpoint.ComputeHash(dir["hf"]);
        Assert.Equal(h1, Checkpoint.ComputeHash(dir["hf"]));
        var loaded = Checkpoint.Load(dir["hf"]);
        loaded.Model.Dispose();
        Assert.Equal(h1, loaded.Hash);

        // Any change to a file gives a new identity.
        File.AppendAllText(dir["hf/config.json"], "\n");
        Assert.NotEqual(h1, Checkpoint.ComputeHash(dir["hf"]));
    }

    [Fact]
    public void Load_ShardMissing_ThrowsNamingShardAndIndex()
    {
        using var dir = new TempDir();
        CopyDir(Path.Combine(FixtureFiles.Dir, "hf-tiny-f16-sharded-tied"), dir["hf"]);
        File.Delete(dir["hf/model-00002-of-00002.safetensors"]);
        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(dir["hf"]));
        Assert.Contains("model-00002-of-00002.safetensors: missing", e.Message);
        Assert.Contains("model.safetensors.index.json", e.Message);
    }

    [Fact]
    public void Load_ResaveOfHfCheckpoint_LoadsWithManifestAndSameWeights()
    {
        using var dir = new TempDir();
        var hf = Checkpoint.Load(Path.Combine(FixtureFiles.Dir, "hf-tiny-f16-sharded-tied"));
        using var model = hf.Model;
        Checkpoint.Save(dir["ck"], model);
        Assert.True(File.Exists(dir["ck/manifest.json"]));
        using var back = Checkpoint.Load(dir["ck"]).Model;
        var a = model.state_dict();
        Assert.All(back.state_dict(), kv => Assert.True(kv.Value.equal(a[kv.Key]).all().item<bool>(), kv.Key));
    }
}
