using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Pretrain.Data;

namespace PostTrain.Pretrain.Tests;

public sealed class ScheduleAndAnnealingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("posttrain-anneal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LearningRate_WsdWithDecayFraction_DecaysOverThatFractionNotTheAnnealing()
    {
        var wsd = new Pretrainer(new PretrainOptions { Steps = 100, WarmupSteps = 10, LearningRate = 1e-3, MinLrRatio = 0.1, Schedule = "wsd", AnnealFraction = 0.2, DecayFraction = 0.5 });
        Assert.Equal(1e-3, wsd.LearningRate(49), 12);
        Assert.True(wsd.LearningRate(55) < 1e-3, $"step 55 lr {wsd.LearningRate(55)}, expected below the peak inside the last 50% of steps");
        Assert.Equal(1e-4, wsd.LearningRate(99), 12);
        var aligned = new Pretrainer(new PretrainOptions { Steps = 100, WarmupSteps = 10, LearningRate = 1e-3, Schedule = "wsd", AnnealFraction = 0.2 });
        Assert.Equal(1e-3, aligned.LearningRate(55), 12); // without DecayFraction the decay spans the annealing window
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void Validate_DecayFractionOutOfRange_NamesTheOption(double fraction) =>
        Assert.Contains("DecayFraction", Assert.Throws<ArgumentException>(() => new PretrainOptions { DecayFraction = fraction }.Validate()).Message, StringComparison.Ordinal);

    [Fact]
    public void Validate_AnnealSftWithoutAnnealing_Refused() =>
        Assert.Contains("AnnealSftFiles", Assert.Throws<ArgumentException>(() => new PretrainOptions { AnnealFraction = 0, AnnealSftFiles = ["x.jsonl"] }.Validate()).Message, StringComparison.Ordinal);

    [Fact]
    public void Build_AnnealSftFiles_OnlyInTheAnnealingMixUpsampled()
    {
        var sft = Path.Combine(_dir, "sft.jsonl");
        SftDataset.Write(sft, [
            new SftExample([ChatMessage.System("Be brief."), ChatMessage.User("Name a colour.")], "Blue."),
            new SftExample([ChatMessage.User("Two plus two?")], "Four."),
        ]);
        var options = new PretrainOptions { CorpusSize = 50, ExactMatchTasks = 4, TaskDifficulty = 1, AnnealSftFiles = [sft], AnnealSftUpsample = 3, AnnealUpsample = 1 };

        var docs = PretrainDocuments.Build(options);

        Assert.Equal(2, docs.AnnealSft.Count);
        Assert.DoesNotContain(docs.Train, d => d.Response is "Blue." or "Four.");
        var mix = docs.AnnealMix(options.AnnealUpsample, options.AnnealSftUpsample).ToList();
        Assert.Equal(docs.Train.Count + 6, mix.Count);
        Assert.Equal(3, mix.Count(d => d.Response == "Blue." && d.Prompt is { Count: 2 } p && p[0].Role == "system"));
    }

    [Fact]
    public void Build_BadAnnealSftLine_NamesFileAndLine()
    {
        var sft = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(sft, "{\"prompt\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response\":\"\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => PretrainDocuments.Build(new PretrainOptions { CorpusSize = 50, ExactMatchTasks = 4, AnnealSftFiles = [sft] }));
        Assert.Contains($"{sft}:1", e.Message, StringComparison.Ordinal);
    }
}
