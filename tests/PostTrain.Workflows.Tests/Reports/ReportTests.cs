using PostTrain.Workflows.Reports;

namespace PostTrain.Workflows.Tests.Reports;

public class ReportTests
{
    [Fact]
    public void Wilson_KnownValues_MatchReference()
    {
        // Reference values from the closed form (e.g. statsmodels proportion_confint(8, 10, method="wilson")).
        var ci = ConfidenceInterval.Wilson(8, 10);
        Assert.Equal(0.8, ci.Estimate, 12);
        Assert.Equal(0.4901625, ci.Low, 5);
        Assert.Equal(0.9433178, ci.High, 5);
        var zero = ConfidenceInterval.Wilson(0, 50);
        Assert.Equal(0, zero.Low);
        Assert.True(zero.High is > 0.05 and < 0.08, $"upper bound {zero.High}");
    }

    [Fact]
    public void McNemar_ExactBinomial_MatchesClosedForm()
    {
        Assert.Equal(1, McNemarTest.PValue(0, 0));
        Assert.Equal(2.0 / 1024, McNemarTest.PValue(10, 0), 12);
        Assert.Equal(2 * 93.0 / 256, McNemarTest.PValue(3, 5), 12);   // n = 8: (1 + 8 + 28 + 56) / 2^8 on each side
        Assert.Equal(McNemarTest.PValue(5, 3), McNemarTest.PValue(3, 5));
        Assert.Equal(1, McNemarTest.PValue(4, 4));
        // Large n stays finite and tiny: 1,200 discordant prompts split 700:500.
        Assert.Equal(8.535366e-9, McNemarTest.PValue(700, 500), 14);   // Python: 2*sum(comb(1200, i) for i in range(501))/2**1200
    }

    [Fact]
    public void Wilson_SuccessesOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ConfidenceInterval.Wilson(11, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConfidenceInterval.Wilson(0, 0));
    }

    [Fact]
    public void Elo_StrongerModel_RatedHigherAndOddsMatchBradleyTerry()
    {
        // A beats B 3:1 and B beats C 3:1 consistently: BT strengths 9:3:1 (with the half-win prior, slightly less).
        var ratings = EloRating.Fit([new("A", "B", 300, 100), new("B", "C", 300, 100), new("A", "C", 900, 100)]);
        Assert.True(ratings["A"] > ratings["B"] && ratings["B"] > ratings["C"]);
        Assert.Equal(1000, ratings.Values.Average(), 6);
        var expectedAB = EloRating.Expected(ratings["A"], ratings["B"]);
        Assert.InRange(expectedAB, 0.72, 0.78);
    }

    [Fact]
    public void Elo_UndefeatedModel_StaysFinite()
    {
        var ratings = EloRating.Fit([new("base", "round 1", 0, 40)]);
        Assert.All(ratings.Values, r => Assert.True(double.IsFinite(r)));
        Assert.True(ratings["round 1"] > ratings["base"] + 200);
    }

    [Fact]
    public void Writer_WritesMarkdownAndCharts()
    {
        var dir = Path.Combine(Path.GetTempPath(), "posttrain-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var report = new QualityReport("r1", "iterate", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(3),
                [new RoundSummary(0, "aaaa", 20, 100), new RoundSummary(1, "bbbb", 35, 100, 0.9, 0.7, 0.8, 0.75, 0.4)],
                [new PairwiseResult("base", "round 1", 30, 70)],
                [new PairwiseResult("base", "round 1", 10, 25, 65)],
                new Dictionary<string, double> { ["Sft"] = 12.5, ["Dpo"] = 30 });
            var md = QualityReportWriter.Write(report, dir);
            var text = File.ReadAllText(md);
            Assert.Contains("| round 1 | `bbbb` | 35.0% [", text);
            Assert.Contains("![Rounds](rounds.png)", text);
            Assert.Contains("## Elo ratings", text);
            foreach (var png in new[] { "rounds.png", "elo.png" })
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir, png));
                Assert.True(bytes.Length > 1000 && bytes[1] == (byte)'P' && bytes[2] == (byte)'N' && bytes[3] == (byte)'G', png);
            }
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Writer_NoVerifier_SaysAccuracyIsNotAvailable_AndKeepsTheWinRate()
    {
        var dir = Path.Combine(Path.GetTempPath(), "posttrain-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            // Verifier none: no answer was checked, so each round's held-out count is 0; the RM's win rate is the measure.
            var report = new QualityReport("r2", "iterate", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(3),
                [new RoundSummary(0, "aaaa", 0, 0), new RoundSummary(1, "bbbb", 0, 0, 0.9, 0.64)], [], [], new Dictionary<string, double>());
            Assert.Null(report.Rounds[1].Accuracy);
            var text = File.ReadAllText(QualityReportWriter.Write(report, dir));
            Assert.Contains("Held-out accuracy: n/a (no verifier", text);
            Assert.Contains("| round 1 | `bbbb` | n/a |", text);
            Assert.Contains("64.0%", text);
            Assert.DoesNotContain("(0/1)", text);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Writer_Ablation_TableAndPairedTestOfTheLoopAgainstOneRound()
    {
        var dir = Path.Combine(Path.GetTempPath(), "posttrain-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var kinds = new Dictionary<string, double> { ["Addition"] = 0.5, ["Sorting"] = 0.9 };
            var report = new QualityReport("r3", "iterate", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(3),
                [new RoundSummary(0, "aaaa", 20, 100), new RoundSummary(6, "bbbb", 60, 100)], [], [], new Dictionary<string, double>())
            {
                Ablation = new AblationComparison("abl-1",
                    [new AblationRow("base", 0, "aaaa", 20, 100, kinds, 0, 0, 0, 0), new AblationRow("6 rounds", 6, "bbbb", 60, 100, kinds, 73728, 20000, 9000, 700),
                     new AblationRow("1 round, the same prompts and samples", 1, "cccc", 45, 100, new Dictionary<string, double> { ["Addition"] = 0.25 }, 73728, 15000, 8000, 500)],
                    OnlyLoop: 10, OnlyAblation: 0),
            };
            var text = File.ReadAllText(QualityReportWriter.Write(report, dir));
            Assert.Contains("## Ablation: iterating vs the same work in one round", text);
            Assert.Contains("| 6 rounds | 60.0% [", text);
            Assert.Contains("| 1 round, the same prompts and samples | 45.0% [", text);
            Assert.Contains("| 25.0% | – | 73728 | 15000 | 8000 | 500 |", text);
            Assert.Contains("6 rounds answered 10 right that the 1 round, the same prompts and samples policy got wrong, and that policy 0 that 6 rounds got wrong: exact McNemar test p = 0.00195", text);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
