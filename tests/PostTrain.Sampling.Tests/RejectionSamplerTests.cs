using PostTrain.Model.Prompts;
using PostTrain.Model;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Sampling.Rejection;
using static TorchSharp.torch;
using RM = PostTrain.RewardModel.RewardModel;

namespace PostTrain.Sampling.Tests;

public class RejectionSamplerTests
{
    private static readonly SamplingProvenance Prov = new(3, "sampler-hash", 0, 1.0, 1.0, 0);

    private static SampledResponse R(string prompt, int index, string text, bool stopped = true) =>
        new(prompt, [ChatMessage.User("question " + prompt)], index, text, [1, 2], -1.5, stopped, Prov);

    private static ScoredResponse S(string prompt, int index, string text, double score, bool? correct = null) =>
        new(R(prompt, index, text), score, correct);

    [Fact]
    public void Select_BestOfN_KeepsHighestScoredWithProvenance()
    {
        var result = RejectionSampler.Select(
            [S("a", 0, "meh", 0.1), S("a", 1, "great", 2.5), S("a", 2, "bad", -1.0), S("b", 0, "ok", 0.3), S("b", 1, "fine", 0.4)],
            new RejectionOptions(), "rm-hash");
        Assert.Equal(["great", "fine"], result.Sft.Select(x => x.Response));
        var src = result.Sft[0].Source!;
        Assert.Equal("3", src["round"]);
        Assert.Equal("sampler-hash", src["sampler_checkpoint"]);
        Assert.Equal("rm-hash", src["reward_model_checkpoint"]);
        Assert.Equal("2.5", src["score"]);
        Assert.Equal("1", src["sample_index"]);
        Assert.Equal(2, result.Stats.SftKept);
        Assert.Equal(1.45, result.Stats.MeanBestScore, 6);
    }

    [Fact]
    public void Select_PairMargin_KeepsBestVsWorstOnlyAboveMargin()
    {
        var result = RejectionSampler.Select(
            [S("a", 0, "meh", 0.1), S("a", 1, "great", 2.5), S("a", 2, "bad", -1.0), S("b", 0, "ok", 0.3), S("b", 1, "fine", 0.4)],
            new RejectionOptions { PairMargin = 1.0 }, "rm-hash");
        var pair = Assert.Single(result.Pairs);
        Assert.Equal(("great", "bad"), (pair.Chosen, pair.Rejected));
        Assert.Equal((2.5, -1.0), (pair.ScoreChosen!.Value, pair.ScoreRejected!.Value));
        Assert.Equal("1", pair.Source!["chosen_sample_index"]);
        Assert.Equal("2", pair.Source["rejected_sample_index"]);
        Assert.Equal("rm-hash", pair.Source["reward_model_checkpoint"]);
        // Gap 0.1 in prompt b passes once the margin is below it.
        Assert.Equal(2, RejectionSampler.Select(result.Scored, new RejectionOptions { PairMargin = 0.05 }).Pairs.Count);
    }

    [Fact]
    public void Select_Duplicates_DroppedKeepingEarliestSample()
    {
        var result = RejectionSampler.Select(
            [S("a", 2, "same", 1.0), S("a", 0, "same ", 1.0), S("a", 1, "other", 0.0)], new RejectionOptions { PairMargin = 0.5 });
        Assert.Equal(1, result.Stats.Duplicates);
        Assert.Equal(2, result.Scored.Count);
        Assert.Equal("0", result.Sft.Single().Source!["sample_index"]);
        Assert.Single(result.Pairs);
        var kept = RejectionSampler.Select([S("a", 0, "same", 1.0), S("a", 1, "same", 0.0)], new RejectionOptions { DropDuplicates = false, PairMargin = 0.5 });
        Assert.Equal(0, kept.Stats.Duplicates);
        Assert.Empty(kept.Pairs); // identical texts never make a pair
    }

    [Fact]
    public void Select_MinScore_DropsPromptsWhoseBestIsBelow()
    {
        var result = RejectionSampler.Select(
            [S("a", 0, "x", 0.5), S("a", 1, "y", 1.5), S("b", 0, "z", 0.2), S("b", 1, "w", 0.9)], new RejectionOptions { MinScore = 1.0 });
        Assert.Equal(["y"], result.Sft.Select(x => x.Response));
        Assert.Equal(1, result.Stats.BelowThreshold);
    }

    [Fact]
    public void Select_RequireStop_DropsTruncatedResponses()
    {
        var truncated = new ScoredResponse(R("a", 1, "long and cut", stopped: false), 9.0);
        var result = RejectionSampler.Select([S("a", 0, "short", 0.5), truncated], new RejectionOptions { RequireStop = true });
        Assert.Equal("short", result.Sft.Single().Response);
        Assert.Equal(1, result.Stats.Unfinished);
        Assert.Equal("long and cut", RejectionSampler.Select([S("a", 0, "short", 0.5), truncated], new RejectionOptions()).Sft.Single().Response);
    }

    [Fact]
    public void Select_Checker_CorrectOutranksHigherRewardAndRequireCorrectDropsPrompt()
    {
        ScoredResponse[] scored = [S("t", 0, "wrong but liked", 3.0, false), S("t", 1, "right", 0.5, true), S("t", 2, "also wrong", 0.4, false)];
        Assert.Equal("wrong but liked", RejectionSampler.Select(scored, new RejectionOptions()).Sft.Single().Response);

        var prefer = RejectionSampler.Select(scored, new RejectionOptions { Checker = CheckerMode.PreferCorrect, PairMargin = 10 });
        Assert.Equal("right", prefer.Sft.Single().Response);
        var pair = prefer.Pairs.Single(); // margin 10 is not met, but the checker separates them
        Assert.Equal(("right", "also wrong"), (pair.Chosen, pair.Rejected));
        Assert.Equal("checker", pair.Source!["annotator"]);

        ScoredResponse[] allWrong = [S("t", 0, "no", 1.0, false), S("t", 1, "nope", -1.0, false)];
        Assert.Equal("no", RejectionSampler.Select(allWrong, new RejectionOptions { Checker = CheckerMode.PreferCorrect }).Sft.Single().Response);
        var required = RejectionSampler.Select(allWrong, new RejectionOptions { Checker = CheckerMode.RequireCorrect });
        Assert.Empty(required.Sft);
        Assert.Empty(required.Pairs);
        Assert.Equal(1, required.Stats.NoCorrect);
    }

    [Fact]
    public void Run_WithRewardModel_ScoresEveryResponseAndKeepsArgmax()
    {
        var tok = ShardsAndFilesTests.Tokenizer();
        manual_seed(31);
        using var rm = new RM(new LlamaForCausalLM(LlamaConfig.Preset("tiny")), tok);
        string[] texts = ["the answer is 5", "hello", "sort gives 1 2 3", "how are you", "hello"];
        var responses = texts.Select((t, i) => R("p", i, t)).Append(R("q", 0, "what")).ToArray();
        var scores = rm.Score(responses.Select(r => (r.Prompt, r.Response)).ToArray());

        var result = new RejectionSampler(rm, new RejectionOptions { PairMargin = -1 }).Run(responses);
        Assert.Equal(1, result.Stats.Duplicates);
        Assert.Equal(5, result.Scored.Count);
        for (var i = 0; i < 4; i++) Assert.Equal(scores[i], result.Scored[i].Score, 4);
        var best = Enumerable.Range(0, 4).MaxBy(i => scores[i]);
        Assert.Equal(texts[best], result.Sft[0].Response);
        Assert.Equal("what", result.Sft[1].Response);
        Assert.Single(result.Pairs); // q has one response
        Assert.Equal(texts[Enumerable.Range(0, 4).MinBy(i => scores[i])], result.Pairs[0].Rejected);
    }

    [Fact]
    public void Run_CheckerOnVerifiableTask_UsesTaskChecker()
    {
        var tok = ShardsAndFilesTests.Tokenizer();
        manual_seed(32);
        using var rm = new RM(new LlamaForCausalLM(LlamaConfig.Preset("tiny")), tok);
        var task = new TaskGenerator(5).Next();
        var responses = new[] { R(task.Id, 0, "I do not know"), R(task.Id, 1, task.Answer) };
        var result = new RejectionSampler(rm, new RejectionOptions { Checker = CheckerMode.RequireCorrect })
            .Run(responses, new Dictionary<string, VerifiableTask> { [task.Id] = task });
        Assert.Equal(task.Answer, result.Sft.Single().Response);
        Assert.Equal("true", result.Sft[0].Source!["correct"]);
    }

    [Fact]
    public void Run_RequireCorrect_SkipsScoringPromptsWithoutACorrectResponse()
    {
        var tok = ShardsAndFilesTests.Tokenizer();
        manual_seed(33);
        using var rm = new RM(new LlamaForCausalLM(LlamaConfig.Preset("tiny")), tok);
        var gen = new TaskGenerator(6);
        var (solved, unsolved) = (gen.Next(), gen.Next());
        var responses = new[]
        {
            R(solved.Id, 0, "no idea"), R(solved.Id, 1, solved.Answer),
            R(unsolved.Id, 0, "no idea"), R(unsolved.Id, 1, "still no idea"),
        };
        var tasks = new Dictionary<string, VerifiableTask> { [solved.Id] = solved, [unsolved.Id] = unsolved };
        var required = new RejectionSampler(rm, new RejectionOptions { Checker = CheckerMode.RequireCorrect }).Run(responses, tasks);
        var preferred = new RejectionSampler(rm, new RejectionOptions { Checker = CheckerMode.PreferCorrect }).Run(responses, tasks);

        Assert.All(required.Scored.Where(x => x.Response.PromptId == unsolved.Id), x => Assert.True(double.IsNaN(x.Score)));
        Assert.All(required.Scored.Where(x => x.Response.PromptId == solved.Id), x => Assert.True(double.IsFinite(x.Score)));
        // The prompt that is kept is scored as when every response is scored (up to the padding of a different batch).
        var all = preferred.Scored.Where(x => x.Response.PromptId == solved.Id).Select(x => x.Score).ToArray();
        var some = required.Scored.Where(x => x.Response.PromptId == solved.Id).Select(x => x.Score).ToArray();
        Assert.Equal(all.Length, some.Length);
        for (var i = 0; i < all.Length; i++) Assert.Equal(all[i], some[i], 1e-5);
        Assert.Equal(solved.Answer, required.Sft.Single().Response);
        Assert.Equal(1, required.Stats.NoCorrect);
        Assert.True(double.IsFinite(required.Stats.MeanScore));
    }
}
