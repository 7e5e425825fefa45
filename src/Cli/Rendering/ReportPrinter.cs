using PostTrain.Workflows.Reports;
using Spectre.Console;

namespace PostTrain.Cli.Rendering;

/// <summary>The per-round table of a quality report, as <c>iterate</c> and <c>report</c> print it.</summary>
public static class ReportPrinter
{
    public static void Print(QualityReport report, IReadOnlyDictionary<string, double> rmElo, string reportPath)
    {
        static string F(double? v, string fmt) => v is null || double.IsNaN(v.Value) ? "–" : fmt == "%" ? QualityReportWriter.Pct(v.Value) : v.Value.ToString(fmt, System.Globalization.CultureInfo.InvariantCulture);
        var table = new Table().Title($"run {report.RunId} ({report.Workflow}) — {report.WallTime:hh\\:mm\\:ss}")
            .AddColumns("round", "held-out exact match [[95% CI]]", "fresh test", "after SFT", "RM acc.", "SFT loss", "DPO reward acc.", "DPO margin", "win rate vs prev.", "Elo (RM)");
        foreach (var r in report.Rounds)
        {
            var ci = r.Accuracy;
            table.AddRow(r.Name, Output.Escape($"{QualityReportWriter.Pct(ci.Estimate)} [{QualityReportWriter.Pct(ci.Low)}, {QualityReportWriter.Pct(ci.High)}] ({ci.Successes}/{ci.Trials})"),
                F(r.FreshAccuracy?.Estimate, "%"), F(r.SftExactMatch, "%"), F(r.RewardModelAccuracy, "%"), F(r.SftLoss, "F3"), F(r.DpoRewardAccuracy, "%"), F(r.DpoRewardMargin, "F3"), F(r.WinRateVsPrevious, "%"),
                F(rmElo.TryGetValue(r.Name, out var e) ? e : null, "F0"));
        }
        AnsiConsole.Write(table);
        if (report.ActivitySeconds.Count > 0)
        {
            var total = report.ActivitySeconds.Values.Sum();
            AnsiConsole.MarkupLine("time by activity: " + Output.Escape(string.Join(", ",
                report.ActivitySeconds.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:F0}s ({kv.Value / total:P0})"))));
        }
        AnsiConsole.MarkupLine($"report: [link]{Output.Escape(reportPath)}[/]");
    }
}
