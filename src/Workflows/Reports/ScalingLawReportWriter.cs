using System.Globalization;
using System.Text;
using PostTrain.Pretrain.Scaling;
using ScottPlot;

namespace PostTrain.Workflows.Reports;

/// <summary>The scaling-law study as Markdown and two charts: loss against training tokens D (one fitted curve per
/// model size) and against non-embedding parameters N (one per token count), each with the larger run predicted and measured.</summary>
public static class ScalingLawReportWriter
{
    public const string MarkdownFile = "report.md", TokensChart = "loss-vs-tokens.png", ParametersChart = "loss-vs-parameters.png";

    /// <summary>Writes report.md and both charts into <paramref name="dir"/>, each temp-then-rename; returns the Markdown's path.</summary>
    public static string Write(ScalingLawPrediction prediction, double actualLoss, string dir)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        Directory.CreateDirectory(dir);
        WritePng(Path.Combine(dir, TokensChart), Chart(prediction, actualLoss, byTokens: true));
        WritePng(Path.Combine(dir, ParametersChart), Chart(prediction, actualLoss, byTokens: false));
        var path = Path.Combine(dir, MarkdownFile);
        AtomicFile.WriteAllText(path, Markdown(prediction, actualLoss));
        return path;
    }

    /// <summary>(predicted − actual) / actual.</summary>
    public static double RelativeError(ScalingLawPrediction prediction, double actualLoss) => (prediction.PredictedLoss - actualLoss) / actualLoss;

    public static string Markdown(ScalingLawPrediction p, double actualLoss)
    {
        ArgumentNullException.ThrowIfNull(p);
        var inv = CultureInfo.InvariantCulture;
        var law = p.Fit.Law;
        var sb = new StringBuilder();
        sb.AppendLine("# Scaling law");
        sb.AppendLine();
        sb.AppendLine(inv, $"Fitted to {p.Fit.Observations.Count} small runs (Huber on log-loss residuals, Hoffmann et al. 2022): **{law}**, N = non-embedding parameters, D = training tokens; rms log residual {p.Fit.RmsLogResidual:F4}.");
        sb.AppendLine();
        sb.AppendLine(inv, $"Larger run (N = {p.TargetParameters:N0}, D = {p.TargetTokens:N0}): predicted held-out loss **{p.PredictedLoss:F4}**, measured **{actualLoss:F4}**, prediction error **{RelativeError(p, actualLoss) * 100:+0.00;-0.00}%** ({p.PredictedLoss - actualLoss:+0.0000;-0.0000} nats/token).");
        sb.AppendLine();
        sb.AppendLine("| N (non-embedding) | D (tokens) | held-out loss | fit | residual |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var x in p.Fit.Observations.OrderBy(x => x.Parameters).ThenBy(x => x.Tokens))
        {
            var fit = law.Predict(x.Parameters, x.Tokens);
            sb.AppendLine(inv, $"| {x.Parameters:N0} | {x.Tokens:N0} | {x.Loss:F4} | {fit:F4} | {fit - x.Loss:+0.0000;-0.0000} |");
        }
        sb.AppendLine(inv, $"| **{p.TargetParameters:N0}** | **{p.TargetTokens:N0}** | **{actualLoss:F4}** | **{p.PredictedLoss:F4}** | **{p.PredictedLoss - actualLoss:+0.0000;-0.0000}** |");
        sb.AppendLine();
        sb.AppendLine(inv, $"![Loss against tokens]({TokensChart})");
        sb.AppendLine();
        sb.AppendLine(inv, $"![Loss against parameters]({ParametersChart})");
        return sb.ToString();
    }

    private static Plot Chart(ScalingLawPrediction p, double actualLoss, bool byTokens)
    {
        var plot = new Plot();
        var runs = p.Fit.Observations;
        double X(ScalingObservation o) => byTokens ? o.Tokens : o.Parameters;
        double Series(ScalingObservation o) => byTokens ? o.Parameters : o.Tokens;
        var xs = runs.Select(X).Append(byTokens ? p.TargetTokens : p.TargetParameters).ToArray();
        double lo = Math.Log10(xs.Min()) - 0.1, hi = Math.Log10(xs.Max()) + 0.1;
        var groups = runs.GroupBy(Series).Select(g => g.Key).Append(byTokens ? p.TargetParameters : p.TargetTokens).Distinct().Order().ToList();
        foreach (var key in groups)
        {
            // The fitted curve over the whole range, so the larger run's point sits on its own extrapolated curve.
            var grid = Enumerable.Range(0, 60).Select(i => lo + (hi - lo) * i / 59).ToArray();
            var curve = plot.Add.ScatterLine(grid, grid.Select(g => byTokens ? p.Fit.Law.Predict(key, Math.Pow(10, g)) : p.Fit.Law.Predict(Math.Pow(10, g), key)).ToArray());
            curve.LegendText = byTokens ? $"fit, N = {key:G3}" : $"fit, D = {key:G3}";
            var points = runs.Where(o => Series(o) == key).ToArray();
            if (points.Length == 0) continue;
            var dots = plot.Add.ScatterPoints(points.Select(o => Math.Log10(X(o))).ToArray(), points.Select(o => o.Loss).ToArray(), curve.Color);
            dots.MarkerSize = 8;
        }
        var targetX = Math.Log10(byTokens ? p.TargetTokens : p.TargetParameters);
        var predicted = plot.Add.Marker(targetX, p.PredictedLoss, MarkerShape.OpenCircle, 14, Colors.Black);
        predicted.LegendText = "larger run: predicted";
        var measured = plot.Add.Marker(targetX, actualLoss, MarkerShape.FilledDiamond, 12, Colors.Red);
        measured.LegendText = "larger run: measured";
        plot.Title(byTokens ? "Held-out loss against training tokens D" : "Held-out loss against non-embedding parameters N");
        plot.XLabel(byTokens ? "training tokens D (log scale)" : "non-embedding parameters N (log scale)");
        plot.YLabel("held-out loss (nats/token)");
        plot.Axes.Bottom.TickGenerator = LogTicks(lo, hi);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Ticks at 1, 2 and 5 times each power of ten inside [10^lo, 10^hi], labelled 20k, 5M, ...</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double lo, double hi)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var decade = (int)Math.Floor(lo); decade <= (int)Math.Ceiling(hi); decade++)
        foreach (var m in new[] { 1, 2, 5 })
        {
            var x = Math.Log10(m) + decade;
            if (x >= lo && x <= hi) ticks.AddMajor(x, Short(m * Math.Pow(10, decade)));
        }
        return ticks;
    }

    private static string Short(double v) => v switch
    {
        >= 1e9 => (v / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (v / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (v / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => v.ToString("0.#", CultureInfo.InvariantCulture),
    };

    private static void WritePng(string path, Plot plot) => AtomicFile.WriteAllBytes(path, plot.GetImageBytes(900, 560, ImageFormat.Png));
}
