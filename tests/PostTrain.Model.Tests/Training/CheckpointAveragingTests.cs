using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tests.Checkpoints;
using PostTrain.Model.Training;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Training;

public class CheckpointAveragingTests
{
    [Fact]
    public void Average_ThreeCheckpoints_IsElementwiseMeanWithLineage()
    {
        using var dir = new TempDir();
        var models = new List<LlamaForCausalLM>();
        var dirs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            manual_seed(100 + i);
            var m = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
            models.Add(m);
            dirs.Add(dir[$"ck{i}"]);
            Checkpoint.Save(dirs[i], m, extraTensors: new Dictionary<string, Tensor> { ["score.weight"] = full(1, 64, (float)i) });
        }
        var hash = CheckpointAveraging.Average(dirs, dir["avg"]);

        var avg = Checkpoint.Load(dir["avg"]);
        using var model = avg.Model;
        Assert.Equal(hash, avg.Hash);
        foreach (var (name, t) in model.state_dict())
        {
            using var expected = (models[0].state_dict()[name] + models[1].state_dict()[name] + models[2].state_dict()[name]) / 3;
            Assert.True(t.allclose(expected, rtol: 1e-6, atol: 1e-7), $"{name} is not the mean");
        }
        Assert.True(avg.Extra["score.weight"].allclose(ones(1, 64)));
        Assert.Equal("uniform", avg.Metadata["averaging"]);
        Assert.Equal(string.Join(",", dirs.Select(Checkpoint.ComputeHash)), avg.Metadata["averaged_from"]);
        foreach (var m in models) m.Dispose();
    }

    [Fact]
    public void Average_DifferentConfigs_ThrowsNamingFieldAndFiles()
    {
        using var dir = new TempDir();
        using var a = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        using var b = new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { RopeTheta = 500000 });
        Checkpoint.Save(dir["a"], a);
        Checkpoint.Save(dir["b"], b);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointAveraging.Average([dir["a"], dir["b"]], dir["avg"]));
        Assert.Contains(Path.Combine(dir["b"], "config.json"), e.Message);
        Assert.Contains("RopeTheta is 500000, expected 10000", e.Message);
        Assert.False(Directory.Exists(dir["avg"]));
    }
}
