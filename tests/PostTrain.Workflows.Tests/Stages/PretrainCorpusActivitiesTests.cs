using System.Text.Json;
using PostTrain.Model.Data;
using PostTrain.Model.Prompts;
using PostTrain.Model.Tokenization;
using PostTrain.Pretrain;
using PostTrain.Pretrain.Corpus;
using PostTrain.Workflows.Activities;
using PostTrain.Workflows.Activities.Stages;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Workflows.Tests.Stages;

public sealed class PretrainCorpusActivitiesTests
{
    private static ActivityContext Context(TestHome home) => new() { Home = home.Root, Artifacts = new ArtifactStore(home.Root), RunId = Guid.NewGuid(), StepPath = "pretrain" };

    [Fact]
    public void PretrainOptionsFor_ScheduleDecayAndAnnealSft_ReachThePretrainer()
    {
        using var home = new TestHome();
        var context = Context(home);
        var sftFile = Path.Combine(home.Root, "sft.jsonl");
        SftDataset.Write(sftFile, [new SftExample([ChatMessage.User("Name a colour.")], "Blue.")]);
        var sft = context.Artifacts.ImportFile(sftFile);
        var input = new PretrainActivity.Inputs { Preset = "tiny", Steps = 100, Schedule = "wsd", DecayFraction = 0.3, AnnealSft = sft, AnnealSftUpsample = 4 };

        var options = PretrainStepOptions.For(input, context, new PretrainCorpusOptions { Examples = 60, Seed = 9, Difficulty = 1 });

        Assert.Equal("wsd", options.Schedule);
        Assert.Equal(0.3, options.DecayFraction);
        Assert.Equal(4, options.AnnealSftUpsample);
        Assert.Equal(context.Artifacts.PathOf(sft), Assert.Single(options.AnnealSftFiles));
        var pretrainer = new Pretrainer(options);
        Assert.Equal(options.LearningRate, pretrainer.LearningRate(69), 12);
        Assert.True(pretrainer.LearningRate(75) < options.LearningRate, "the decay starts 30% before the end");
        Assert.Single(PostTrain.Pretrain.Data.PretrainDocuments.Build(options).AnnealSft);
    }

    [Fact]
    public void PretrainOptionsFor_EmptyInputs_KeepTheOptionsDefaults()
    {
        using var home = new TestHome();
        var options = PretrainStepOptions.For(new PretrainActivity.Inputs(), Context(home), new PretrainCorpusOptions());
        var defaults = new PretrainOptions();
        Assert.Equal(defaults.Schedule, options.Schedule);
        Assert.Equal(defaults.DecayFraction, options.DecayFraction);
        Assert.Empty(options.AnnealSftFiles);
        Assert.Equal(defaults.AnnealSftUpsample, options.AnnealSftUpsample);
    }

    [Fact]
    public async Task PrepareCorpus_StoredJsonl_WritesCorpusAndReportArtifact()
    {
        using var home = new TestHome();
        var context = Context(home);
        var text = new SyntheticText(seed: 2);
        var docs = Enumerable.Range(0, 20).Select(i => text.Document(50)).ToList();
        var file = Path.Combine(home.Root, "c.jsonl");
        File.WriteAllLines(file, docs.Concat(docs.Take(5)).Select((t, i) => JsonSerializer.Serialize(new { id = $"d{i}", text = t })));
        var data = context.Artifacts.ImportFile(file);

        var outputs = await new PrepareCorpusActivity().ExecuteAsync(new PrepareCorpusActivity.Inputs { Data = [data] }, context);

        Assert.Equal(25, outputs.Documents);
        Assert.Equal(20, outputs.Kept);
        var dir = context.Artifacts.PathOf(outputs.Corpus);
        Assert.Equal(20, File.ReadLines(Path.Combine(dir, CorpusPreparer.CorpusFile)).Count());
        Assert.True(File.Exists(Path.Combine(dir, CorpusPreparer.ReportFile)));
        Assert.Contains(context.Metrics, m => m.Name == "corpus/removed/exact_duplicate" && m.Value == 5);
    }
}
