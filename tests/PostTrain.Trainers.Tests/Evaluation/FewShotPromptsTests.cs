using PostTrain.Model.Data;
using PostTrain.Model.Prompts;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Evaluation;

namespace PostTrain.Trainers.Tests.Evaluation;

public sealed class FewShotPromptsTests
{
    private static readonly IReadOnlyList<VerifiableTask> HeldOut = new TaskGenerator(seed: 3).Generate(40, TaskSplit.HeldOut);
    private static readonly IReadOnlyList<VerifiableTask> Pool = new TaskGenerator(seed: 4).Generate(200, TaskSplit.Train);

    [Fact]
    public void Build_ThreeShots_SolvedTasksOfTheSameKindThenTheTask()
    {
        var prompts = FewShotPrompts.Build(HeldOut, Pool, 3, systemPrompt: "Answer with the result only.");
        Assert.Equal(HeldOut.Count, prompts.Count);
        var byPrompt = Pool.ToDictionary(t => t.Prompt);
        for (var i = 0; i < prompts.Count; i++)
        {
            var m = prompts[i].Messages;
            Assert.Equal(1 + 3 * 2 + 1, m.Count);
            Assert.Equal(ChatTemplate.SystemRole, m[0].Role);
            Assert.Equal(HeldOut[i].Prompt, m[^1].Content);
            Assert.Same(HeldOut[i], prompts[i].Task);
            var shots = Enumerable.Range(0, 3).Select(s => byPrompt[m[1 + 2 * s].Content]).ToList();
            Assert.All(shots, s => Assert.Equal(HeldOut[i].KindName, s.KindName));
            Assert.Equal(shots.Select(s => s.Answer), Enumerable.Range(0, 3).Select(s => m[2 + 2 * s].Content));
            Assert.Equal(3, shots.Select(s => s.Id).Distinct().Count());
        }
        // Shots depend on the task: not one fixed set of examples for every prompt of a kind.
        Assert.True(prompts.Select(p => p.Messages[1].Content).Distinct().Count() > 5);
    }

    [Fact]
    public void Build_SameInputs_SamePrompts_AndNeverTheHeldOutTaskItself()
    {
        var pool = Pool.Concat(HeldOut).ToList(); // a held-out task in the pool must not become its own shot
        var a = FewShotPrompts.Build(HeldOut, pool, 2);
        var b = FewShotPrompts.Build(HeldOut, pool.AsEnumerable().Reverse().ToList(), 2);
        var heldOutPrompts = HeldOut.Select(t => t.Prompt).ToHashSet();
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Messages.Select(x => x.Content), b[i].Messages.Select(x => x.Content));
            Assert.DoesNotContain(a[i].Messages.SkipLast(1), x => heldOutPrompts.Contains(x.Content));
        }
    }

    [Fact]
    public void Build_KindMissingFromThePool_ZeroShotForThatKind()
    {
        var kind = HeldOut[0].KindName;
        var prompts = FewShotPrompts.Build(HeldOut, Pool.Where(t => t.KindName != kind), 3);
        Assert.All(prompts.Where(p => p.Task!.KindName == kind), p => Assert.Single(p.Messages));
    }

    [Fact]
    public void WithFewShot_MeasuresBaselineAndCandidatesButNotSkipped_RankingUnchanged()
    {
        var prompts = FewShotPrompts.Build(HeldOut.Take(10).ToList(), Pool, 2);
        // A stand-in generator: "good" answers every k-shot prompt right, the others never.
        var evaluator = new Evaluator(new EvaluationOptions(),
            (dir, messages) => messages.Select((m, i) => dir.EndsWith("good", StringComparison.Ordinal) ? prompts[i].Task!.Answer : "nonsense").ToList(),
            (_, responses) => responses.Select(_ => 0.0).ToList());
        var selection = new SelectionResult("bad", "/ck/bad", SelectionRule.ExactMatchThenWinRate, "",
            [Candidate("bad"), Candidate("good"), Candidate("sft")], BaselineCheckpointDir: "/ck/base-good");
        var result = evaluator.WithFewShot(selection, prompts, 2, new HashSet<string> { "sft" });
        Assert.Equal(["bad", "good", "sft"], result.Ranking.Select(e => e.Name));
        Assert.Equal([0.0, 1.0, null], result.Ranking.Select(e => e.FewShotExactMatch));
        Assert.Equal(1.0, result.BaselineFewShotExactMatch);
        Assert.Equal(2, result.FewShots);
        var read = SelectionResult.FromJson(result.ToJson()); // SelectBest reads the figures back from Evaluate's report
        Assert.Equal((2, 1.0), (read.FewShots, read.BaselineFewShotExactMatch));
        Assert.Equal(1.0, read.Ranking[1].FewShotExactMatch);
    }

    private static CandidateEvaluation Candidate(string name) => new()
    {
        Name = name, CheckpointDir = "/ck/" + name, Prompts = 10, Wins = 5, Ties = 0, Losses = 5, WinRate = 0.5, WinRateLow = 0.2,
        WinRateHigh = 0.8, MeanReward = 0, BaselineMeanReward = 0, Checked = 10, Correct = 5, ExactMatch = 0.5,
    };
}
