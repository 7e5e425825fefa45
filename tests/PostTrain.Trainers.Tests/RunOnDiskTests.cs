using System.Text.Json;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Dpo;
using PostTrain.Trainers.Sft;

namespace PostTrain.Trainers.Tests;

/// <summary>The trainers' on-disk entry points: checkpoint in, JSONL in, checkpoint with metadata out.</summary>
public sealed class RunOnDiskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trainers-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string BaseCheckpoint()
    {
        var tokenizer = ByteBpeTokenizer.Train(["what is 2 + 3? the answer is 5.", "hello there, how are you today?", "sort 3 1 2 gives 1 2 3"], 300);
        TorchSharp.torch.manual_seed(1);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        var dir = Path.Combine(_dir, "base");
        Checkpoint.Save(dir, model, tokenizer);
        return dir;
    }

    private static IReadOnlyList<ChatMessage> Ask(string q) => [ChatMessage.User(q)];

    [Fact]
    public void SftRun_Jsonl_SavesCheckpointWithMetadata()
    {
        var baseDir = BaseCheckpoint();
        var data = Path.Combine(_dir, "sft.jsonl");
        SftDataset.Write(data, [new SftExample(Ask("what is 2 + 3?"), "5"), new SftExample(Ask("sort 3 1 2"), "1 2 3")]);
        var outDir = Path.Combine(_dir, "sft");
        var result = new SftTrainer(new SftOptions { BatchSize = 2, Epochs = 2, LearningRate = 1e-3 }).Run(baseDir, data, data, outDir);
        Assert.Equal(outDir, result.CheckpointDir);
        var saved = Checkpoint.Load(outDir);
        Assert.Equal("sft", saved.Metadata["stage"]);
        Assert.Equal(Checkpoint.ComputeHash(baseDir), saved.Metadata["parent_checkpoint"]);
        var metrics = JsonSerializer.Deserialize<Dictionary<string, double>>(saved.Metadata["metrics"])!;
        Assert.Equal(result.HeldOutLoss!.Value, metrics["eval/loss"], 6);
        Assert.NotNull(saved.Tokenizer);
        saved.Model.Dispose();
    }

    [Fact]
    public void DpoRun_TwoVariants_ReuseReferenceCacheAndSave()
    {
        var baseDir = BaseCheckpoint();
        var data = Path.Combine(_dir, "pairs.jsonl");
        PreferenceDataset.Write(data, [
            new PreferencePair(Ask("what is 2 + 3?"), "5", "6"),
            new PreferencePair(Ask("sort 3 1 2"), "1 2 3", "3 2 1") { Edited = "1 2 3." },
            new PreferencePair(Ask("hello"), "hello there", "bye"),
        ]);
        var first = new DpoTrainer(new DpoOptions { BatchSize = 2 }).Run(baseDir, baseDir, data, Path.Combine(_dir, "dpo-a"));
        var second = new DpoTrainer(new DpoOptions { BatchSize = 2, Beta = 0.5, LossType = DpoLossType.Hinge }).Run(baseDir, baseDir, data, Path.Combine(_dir, "dpo-b"));
        Assert.Equal(1, first.ReferenceForwardPasses); // one CPU forward call holds all six sequences
        Assert.Equal(0, second.ReferenceForwardPasses);
        Assert.Single(Directory.GetFiles(_dir, "pairs.jsonl.ref-*.logps.json"));
        var saved = Checkpoint.Load(second.CheckpointDir!);
        Assert.Equal("dpo", saved.Metadata["stage"]);
        Assert.Equal(Checkpoint.ComputeHash(baseDir), saved.Metadata["reference_checkpoint"]);
        Assert.Contains("\"Hinge\"", saved.Metadata["options"]);
        saved.Model.Dispose();
    }
}
