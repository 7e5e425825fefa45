using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Distillation;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Tests.Distillation;

public sealed class DistillationTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("posttrain-distill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<(int[] Ids, int[] Targets)> Rows(int count, int seed) =>
        TinyData.Examples(count, seed).Select(e => (e.Ids, TokenTargets.Response(e))).ToList();

    [Fact]
    public void Compute_TopK_IsTheTeachersSortedLogSoftmaxAtEachResponsePosition()
    {
        using var teacher = TinyData.Model(1);
        var rows = Rows(3, seed: 5);
        var topK = TeacherTopK.Compute(teacher, rows, 4, "d", "t", 128, batchSize: 2, TinyData.Pad);
        Assert.Equal(2, topK.ForwardPasses);
        var (ids, logProbs) = topK.Example(2);
        var positions = Enumerable.Range(0, rows[2].Targets.Length).Where(t => rows[2].Targets[t] != TokenTargets.IgnoreIndex).ToList();
        Assert.Equal(positions.Count * 4, ids.Length);
        using var _ = no_grad();
        teacher.eval();
        using var logits = teacher.forward(tensor(rows[2].Ids.Select(i => (long)i).ToArray(), [1, rows[2].Ids.Length]));
        var full = nn.functional.log_softmax(logits, -1)[0, positions[^1]].data<float>().ToArray();
        var sorted = full.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(4).ToList();
        Assert.Equal(sorted.Select(x => x.i), ids[^4..]);
        for (var j = 0; j < 4; j++) Assert.Equal(sorted[j].v, logProbs[logProbs.Length - 4 + j], 4);
    }

    [Fact]
    public void Train_StudentOnTeachersTopK_KlFallsByAQuarterInSixEpochs()
    {
        using var teacher = TinyData.Model(1);
        // A random network is nearly uniform, its top-k a few % of the mass; a trained teacher is peaked. Sharpened
        // logits make the top-k most of the distribution, so a student that matches it can approach KL 0.
        using (no_grad()) teacher.lm_head!.weight!.mul_(30);
        using var student = TinyData.Model(2);
        var rows = Rows(16, seed: 6);
        var topK = TeacherTopK.Compute(teacher, rows, 8, "d", "t", 128, batchSize: 8, TinyData.Pad);
        var result = new DistillationTrainer(new DistillationOptions { Epochs = 6, BatchSize = 4, LearningRate = 3e-3, WarmupRatio = 0 })
            .Train(student, rows, topK, TinyData.Pad);
        Assert.Equal(24, result.Steps);
        Assert.True(result.TrainLoss < 0.75 * result.InitialLoss, $"KL {result.InitialLoss:F3} → {result.TrainLoss:F3}, expected a quarter lower at least");
    }

    [Fact]
    public void Run_OnDisk_CachesTheTeachersTopK_AndRefusesAnotherVocabulary()
    {
        var tokenizer = ByteBpeTokenizer.Train(["what is 2 + 3? the answer is 5.", "sort 3 1 2 gives 1 2 3", "hello there"], 300);
        string Save(string name, int seed, LlamaConfig config)
        {
            manual_seed(seed);
            using var model = new LlamaForCausalLM(config with { VocabSize = tokenizer.VocabSize });
            Checkpoint.Save(Path.Combine(_dir, name), model, tokenizer);
            return Path.Combine(_dir, name);
        }
        var tiny = LlamaConfig.Preset("tiny");
        var teacher = Save("teacher", 1, tiny with { HiddenSize = 128, IntermediateSize = 352 });
        var student = Save("student", 2, tiny);
        var data = Path.Combine(_dir, "sft.jsonl");
        SftDataset.Write(data, Enumerable.Range(0, 6).Select(i => new SftExample([ChatMessage.User($"what is {i} + 3?")], $"the answer is {i + 3}.")));
        var cache = Path.Combine(_dir, "cache");
        var trainer = new DistillationTrainer(new DistillationOptions { BatchSize = 3, LearningRate = 1e-3, TopK = 8 });

        var first = trainer.Run(student, teacher, data, cache, Path.Combine(_dir, "out1"));
        var second = trainer.Run(student, teacher, data, cache, Path.Combine(_dir, "out2"));

        Assert.True(first.TeacherForwardPasses > 0);
        Assert.Equal(0, second.TeacherForwardPasses);
        Assert.Single(Directory.GetFiles(cache, "*.topk.json"));
        Assert.Equal(first.LossHistory, second.LossHistory); // the cache holds exactly what the teacher computed
        Assert.Equal(Checkpoint.ComputeHash(teacher), Checkpoint.Load(Path.Combine(_dir, "out1")).Metadata["teacher_checkpoint"]);

        var otherTokenizer = ByteBpeTokenizer.Train(["completely different words for another vocabulary", "zebra quartz"], 280);
        manual_seed(3);
        using (var other = new LlamaForCausalLM(tiny with { VocabSize = otherTokenizer.VocabSize }))
            Checkpoint.Save(Path.Combine(_dir, "other"), other, otherTokenizer);
        var error = Assert.Throws<ArgumentException>(() => trainer.Run(student, Path.Combine(_dir, "other"), data, cache, Path.Combine(_dir, "out3")));
        Assert.Contains("one vocabulary", error.Message, StringComparison.Ordinal);
    }
}
