using PostTrain.Model.Prompts;
using PostTrain.Sampling.Rejection;

namespace PostTrain.Sampling.Tests;

public class PretrainingReplayTests
{
    private static readonly PretrainCorpus Corpus = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 300, HeldOutExamples = 20, SamplingPrompts = 20, Seed = 3, Difficulty = 1 });

    [Fact]
    public void Draw_DistinctCorpusConversations_RightAnswers_FreshEachRound_SameForTheSameRound()
    {
        var round0 = PretrainingReplay.Draw(Corpus, 50, round: 0);
        Assert.Equal(50, round0.Count);
        var byPrompt = Corpus.TrainTasks.ToDictionary(t => t.Prompt);
        Assert.All(round0, e =>
        {
            var task = byPrompt[e.Prompt[^1].Content];
            Assert.Equal(task.Answer, e.Response);
            Assert.True(TaskChecker.IsCorrect(task, e.Response));
            Assert.Equal("pretraining_replay", e.Source!["selection"]);
            Assert.Equal(task.Id, e.Source["prompt_id"]);
        });
        Assert.Equal(50, round0.Select(e => e.Prompt[^1].Content).Distinct().Count());
        Assert.Equal(round0.Select(e => e.Response), PretrainingReplay.Draw(Corpus, 50, round: 0).Select(e => e.Response));
        Assert.NotEqual(round0.Select(e => e.Prompt[^1].Content), PretrainingReplay.Draw(Corpus, 50, round: 1).Select(e => e.Prompt[^1].Content));
        Assert.Empty(PretrainingReplay.Draw(Corpus, 0, round: 2));
    }

    [Fact]
    public void Draw_IsTheSameInEveryProcess()
    {
        // A pinned draw: a per-process random seed (HashCode) would pass the in-process checks above and still move between runs.
        var pinned = string.Join(",", PretrainingReplay.Draw(Corpus, 3, round: 4).Select(e => e.Source!["prompt_id"]));
        Assert.Equal("wordproblem-6fc14c52d687,addition-74f8792ea775,addition-a30453efc0e6", pinned);
    }

    [Fact]
    public void Draw_MoreThanTheCorpus_SaysHowMany()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PretrainingReplay.Draw(Corpus, 301, round: 0));
        Assert.Contains("0..300", e.Message);
        Assert.Throws<ArgumentException>(() => new RejectionOptions { PretrainingReplay = -1 }.Validate());
    }

    [Fact]
    public void ForTaskSet_BuiltInReplaysAtMostItsCorpus_AUserPromptSetOrNoneReplaysNothing()
    {
        var builtIn = new TaskSet(Corpus.Options, Corpus.HeldOutTasks, Corpus.SamplingTasks, []);
        var user = builtIn with { Verifier = "exact" };

        Assert.Equal(50, PretrainingReplay.ForTaskSet(builtIn, 50, round: 1).Count);
        Assert.Equal(300, PretrainingReplay.ForTaskSet(builtIn, 1000, round: 1).Count);
        Assert.Empty(PretrainingReplay.ForTaskSet(builtIn, 0, round: 1));
        Assert.Empty(PretrainingReplay.ForTaskSet(user, 300, round: 1));
        Assert.Empty(PretrainingReplay.ForTaskSet(null, 300, round: 1));
    }
}
