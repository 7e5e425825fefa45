using PostTrain.Model.Prompts;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Evaluation;

namespace PostTrain.Trainers.Tests.Evaluation;

public class EvaluatorTests
{
    private static CandidateEvaluation Eval(string name, double winRate, double? exactMatch, double meanReward = 0) => new()
    {
        Name = name,
        CheckpointDir = "/ck/" + name,
        Prompts = 10,
        Wins = (int)(winRate * 10),
        Ties = 0,
        Losses = 10 - (int)(winRate * 10),
        WinRate = winRate,
        WinRateLow = 0,
        WinRateHigh = 1,
        MeanReward = meanReward,
        BaselineMeanReward = 0,
        Checked = exactMatch is null ? 0 : 10,
        Correct = (int)((exactMatch ?? 0) * 10),
        ExactMatch = exactMatch,
    };

    [Fact]
    public void SelectBest_CheckerExists_ExactMatchBeatsWinRate()
    {
        var r = Evaluator.SelectBest([Eval("a", 0.9, 0.6), Eval("b", 0.4, 0.8), Eval("c", 0.95, null)]);
        Assert.Equal("b", r.Best);
        Assert.Equal(["b", "a", "c"], r.Ranking.Select(e => e.Name));
        Assert.Contains("exact match 0.800 vs 0.600", r.Reason);
    }

    [Fact]
    public void SelectBest_EqualExactMatch_WinRateBreaksTie()
    {
        var r = Evaluator.SelectBest([Eval("a", 0.5, 0.7), Eval("b", 0.6, 0.7)]);
        Assert.Equal("b", r.Best);
        Assert.Contains("equal exact match", r.Reason);
    }

    [Fact]
    public void SelectBest_NoChecker_WinRateDecides()
    {
        Assert.Equal("a", Evaluator.SelectBest([Eval("a", 0.7, null), Eval("b", 0.6, null)]).Best);
    }

    [Fact]
    public void SelectBest_WinRateRule_WinRateFirst()
    {
        var r = Evaluator.SelectBest([Eval("a", 0.9, 0.6), Eval("b", 0.4, 0.8)], SelectionRule.WinRateThenExactMatch);
        Assert.Equal("a", r.Best);
        Assert.Equal(SelectionRule.WinRateThenExactMatch, r.Rule);
    }

    [Fact]
    public void SelectBest_AllEqual_MeanRewardThenEarliest()
    {
        Assert.Equal("b", Evaluator.SelectBest([Eval("a", 0.5, 0.5, 1.0), Eval("b", 0.5, 0.5, 2.0)]).Best);
        Assert.Equal("a", Evaluator.SelectBest([Eval("a", 0.5, 0.5), Eval("b", 0.5, 0.5)]).Best);
    }

    [Fact]
    public void SelectionResult_Json_RoundTrips()
    {
        var r = Evaluator.SelectBest([Eval("a", 0.9, 0.6), Eval("b", 0.4, 0.8)]) with { BaselineCheckpointDir = "/ck/base", BaselineExactMatch = 0.5 };
        var json = r.ToJson();
        Assert.Contains("\"rule\": \"ExactMatchThenWinRate\"", json);
        Assert.Contains("\"win_rate\": 0.9", json);
        var back = SelectionResult.FromJson(json);
        Assert.Equal(r.Best, back.Best);
        Assert.Equal(r.BaselineExactMatch, back.BaselineExactMatch);
        Assert.Equal(r.Ranking.Select(e => (e.Name, e.WinRate, e.ExactMatch)), back.Ranking.Select(e => (e.Name, e.WinRate, e.ExactMatch)));
    }

    [Fact]
    public void WilsonInterval_EightOfTen_MatchesClosedForm()
    {
        var (low, high) = WilsonInterval.Compute(8, 10);
        Assert.Equal(0.4902, low, 4);
        Assert.Equal(0.9433, high, 4);
        Assert.Equal((0.0, 1.0), WilsonInterval.Compute(0, 0));
        var (l0, h0) = WilsonInterval.Compute(0, 20);
        Assert.Equal(0.0, l0, 12);
        Assert.True(h0 is > 0.15 and < 0.17, $"upper bound for 0/20 was {h0}");
    }

    private static readonly VerifiableTask Add = new("t1", TaskKind.Addition, "2 + 3", "5");
    private static readonly VerifiableTask Sort = new("t2", TaskKind.Sorting, "sort 3 1 2", "1 2 3");

    private static IReadOnlyList<EvalPrompt> Prompts() =>
    [
        new([ChatMessage.User("2 + 3")], Add),
        new([ChatMessage.User("sort 3 1 2")], Sort),
        new([ChatMessage.User("say hi")]),
        new([ChatMessage.User("say bye")]),
    ];

    /// <summary>Fake sampler: each checkpoint dir answers from a table. Fake RM: the response's length.</summary>
    private static Evaluator Make(Dictionary<string, string[]> answers, EvaluationOptions? options = null) =>
        new(options ?? new EvaluationOptions(),
            (dir, prompts) => answers[Path.GetFileName(dir)].Take(prompts.Count).ToList(),
            (prompts, responses) => responses.Select(r => (double)r.Length).ToList());

    [Fact]
    public void EvaluateRound_FakeSamplerAndRm_CountsWinsTiesAndExactMatch()
    {
        var answers = new Dictionary<string, string[]>
        {
            ["base"] = ["5", "3 2 1", "hi", "bye"],
            ["a"] = ["4", "1 2 3", "hi!!", "by"],     // EM 1/2; RM: tie, tie, win, lose → 2 / 4
            ["b"] = ["5", "1 2 3", "hello", "bye!"], // EM 2/2; RM: tie, tie, win, win → 3 / 4
        };
        var r = Make(answers).EvaluateRound([new Candidate("a", "/x/a"), new Candidate("b", "/x/b", new Dictionary<string, double> { ["beta"] = 0.1 })], "/x/base", Prompts());
        Assert.Equal("b", r.Best);
        Assert.Equal(0.5, r.BaselineExactMatch); // "5" right, "3 2 1" wrong
        var a = r.Ranking.Single(e => e.Name == "a");
        Assert.Equal((1, 2, 1), (a.Wins, a.Ties, a.Losses));
        Assert.Equal(0.5, a.WinRate, 12);
        Assert.Equal((2, 1), (a.Checked, a.Correct));
        Assert.Equal(0.5, a.ExactMatch);
        var (low, high) = WilsonInterval.Compute(1, 2);
        Assert.Equal(low, a.ExactMatchLow);
        Assert.Equal(high, a.ExactMatchHigh);
        var b = r.Ranking.Single(e => e.Name == "b");
        Assert.Equal(0.75, b.WinRate, 12);
        Assert.Equal(1.0, b.ExactMatch);
        Assert.Equal(0.1, b.Hyperparameters!["beta"]);
        // Per kind: a got the sum wrong and the sort right; the baseline the reverse; unchecked prompts count nowhere.
        Assert.Equal(new Dictionary<string, double> { ["Addition"] = 0, ["Sorting"] = 1 }, a.ExactMatchByKind);
        Assert.Equal(new Dictionary<string, double> { ["Addition"] = 1, ["Sorting"] = 0 }, r.BaselineExactMatchByKind);
        Assert.Equal(a.ExactMatchByKind, SelectionResult.FromJson(r.ToJson()).Ranking.Single(e => e.Name == "a").ExactMatchByKind);
    }

    [Fact]
    public void EvaluateRound_TieTolerance_TurnsSmallWinsIntoTies()
    {
        var answers = new Dictionary<string, string[]> { ["base"] = ["x", "x", "x", "x"], ["a"] = ["xy", "xy", "xy", "xy"] };
        var strict = Make(answers).EvaluateRound([new Candidate("a", "/a")], "/base", Prompts());
        Assert.Equal(1.0, strict.Ranking[0].WinRate);
        var tolerant = Make(answers, new EvaluationOptions { TieTolerance = 1.0 }).EvaluateRound([new Candidate("a", "/a")], "/base", Prompts());
        Assert.Equal(0.5, tolerant.Ranking[0].WinRate);
    }

    [Fact]
    public void EvaluateRound_IncludeAverage_AveragesAndEvaluatesIt()
    {
        var dir = Directory.CreateTempSubdirectory("eval-avg-").FullName;
        try
        {
            string Save(string name, int seed)
            {
                TorchSharp.torch.manual_seed(seed);
                using var m = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
                var p = Path.Combine(dir, name);
                Checkpoint.Save(p, m);
                return p;
            }
            var a = Save("a", 1);
            var b = Save("b", 2);
            var answers = new Dictionary<string, string[]> { ["base"] = ["1", "1", "1", "1"], ["a"] = ["5", "1", "1", "1"], ["b"] = ["1", "1", "1", "1"], ["avg"] = ["5", "1 2 3", "11", "11"] };
            var r = Make(answers, new EvaluationOptions { IncludeAverage = true, AverageName = "soup" })
                .EvaluateRound([new Candidate("a", a), new Candidate("b", b)], Path.Combine(dir, "base"), Prompts(), averageDir: Path.Combine(dir, "avg"));
            Assert.Equal("soup", r.Best);
            Assert.Equal(3, r.Ranking.Count);
            using var avg = Checkpoint.Load(Path.Combine(dir, "avg")).Model;
            using var ma = Checkpoint.Load(a).Model;
            using var mb = Checkpoint.Load(b).Model;
            var w = "model.norm.weight";
            var expected = (ma.state_dict()["lm_head.weight"] + mb.state_dict()["lm_head.weight"]) / 2;
            Assert.True(avg.state_dict()["lm_head.weight"].allclose(expected, atol: 1e-6), "the average candidate holds the mean weights");
            Assert.NotNull(avg.state_dict()[w]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void EvaluateRound_DuplicateNames_Throws()
    {
        var answers = new Dictionary<string, string[]> { ["base"] = ["1", "1", "1", "1"] };
        var e = Assert.Throws<ArgumentException>(() => Make(answers).EvaluateRound([new Candidate("a", "/a"), new Candidate("a", "/b")], "/base", Prompts()));
        Assert.Contains("\"a\" appears 2 times", e.Message);
    }
}
