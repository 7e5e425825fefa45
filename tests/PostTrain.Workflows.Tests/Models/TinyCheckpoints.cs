using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using PostTrain.Engine.Store;
using static TorchSharp.torch;

namespace PostTrain.Workflows.Tests.Models;

/// <summary>Freshly saved tiny random checkpoints with a trained byte-level BPE tokenizer (Llama 3 chat specials).</summary>
internal static class TinyCheckpoints
{
    public static ByteBpeTokenizer Tokenizer() =>
        ByteBpeTokenizer.Train(["what is 2 + 3? the answer is 5.", "hello there, how are you today?", "sort 3 1 2 gives 1 2 3"], 300);

    public static string Policy(string dir, int seed = 0)
    {
        manual_seed(seed);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        Checkpoint.Save(dir, model, Tokenizer());
        return dir;
    }

    /// <summary>A tiny policy saved in <paramref name="dir"/> and stored as a directory artifact.</summary>
    public static ArtifactRef StoredPolicy(ArtifactStore artifacts, string dir, int seed = 0)
    {
        Policy(dir, seed);
        return artifacts.PutDirectory(target => { foreach (var f in Directory.GetFiles(dir)) File.Copy(f, Path.Combine(target, Path.GetFileName(f))); });
    }

    public static string RewardModel(string dir, double likelihoodWeight = 0, int seed = 0)
    {
        manual_seed(seed);
        using var rm = new PostTrain.RewardModel.RewardModel(new LlamaForCausalLM(LlamaConfig.Preset("tiny")), Tokenizer(), likelihoodWeight: likelihoodWeight);
        rm.Save(dir);
        return dir;
    }
}
