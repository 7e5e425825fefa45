using System.Globalization;
using PostTrain.Workflows.Reports;

namespace PostTrain.Cli.Rendering;

/// <summary>The per-round table of a quality report, as <c>iterate</c> and <c>report</c> print it.</summary>
public static class ReportPrinter
{
    /// <summary>The columns <c>iterate</c> prints as each round ends, before the report adds fresh prompts and Elo.</summary>
    public static readonly string[] LiveHeaders = ["round", "held-out exact match [95% CI]", "after SFT", "RM acc.", "SFT loss", "DPO reward acc.", "DPO margin", "win rate vs prev."];

    public static void Print(QualityReport report, IReadOnlyDictionary<string, double> rmElo, string reportPath)
    {
        var table = new TextTable([.. LiveHeaders.Take(2), "fresh test", .. LiveHeaders.Skip(2), "Elo (RM)"])
            { Title = $"run {report.RunId} ({report.Workflow}) — {report.WallTime:hh\\:mm\\:ss}" };
        foreach (var r in report.Rounds)
        {
            var live = LiveCells(r);
            table.AddRow([.. live.Take(2), F(r.FreshAccuracy?.Estimate, "%"), .. live.Skip(2), F(rmElo.TryGetValue(r.Name, out var e) ? e : null, "F0")]);
        }
        table.Write();
        if (report.ActivitySeconds.Count > 0)
        {
            var total = report.ActivitySeconds.Values.Sum();
            Console.Out.WriteLine("time by activity: " + string.Join(", ",
                report.ActivitySeconds.OrderByDescending(kv => kv.Value).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F0}s ({kv.Value / total * 100:F0}%)"))));
        }
        Console.Out.WriteLine($"report: {reportPath}");
    }

    /// <summary>One round's cells under <see cref="LiveHeaders"/>.</summary>
    public static string[] LiveCells(RoundSummary r)
    {
        return [r.Name, r.Accuracy is { } ci ? $"{QualityReportWriter.Pct(ci.Estimate)} [{QualityReportWriter.Pct(ci.Low)}, {QualityReportWriter.Pct(ci.High)}] ({ci.Successes}/{ci.Trials})" : "n/a (no verifier)",
            F(r.SftExactMatch, "%"), F(r.RewardModelAccuracy, "%"), F(r.SftLoss, "F3"), F(r.DpoRewardAccuracy, "%"), F(r.DpoRewardMargin, "F3"), F(r.WinRateVsPrevious, "%")];
    }

    private static string F(double? v, string fmt) => v is null || double.IsNaN(v.Value) ? "–"
        : fmt == "%" ? QualityReportWriter.Pct(v.Value) : v.Value.ToString(fmt, CultureInfo.InvariantCulture);
}
