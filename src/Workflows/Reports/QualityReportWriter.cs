using System.Globalization;
using System.Text;
using PostTrain.Model.Checkpoints;
using ScottPlot;

namespace PostTrain.Workflows.Reports;

/// <summary>Writes a <see cref="QualityReport"/> as Markdown with PNG charts: what people would rather see than read.</summary>
public static class QualityReportWriter
{
    public const string MarkdownFile = "report.md", RoundsChart = "rounds.png", EloChart = "elo.png";

    /// <summary>Writes report.md, rounds.png and elo.png into <paramref name="dir"/>, each temp-then-rename.</summary>
    public static string Write(QualityReport report, string dir)
    {
        Directory.CreateDirectory(dir);
        var rm = report.RmJudged.Count > 0 ? EloRating.Fit(report.RmJudged) : new Dictionary<string, double>();
        var checker = report.CheckerJudged.Count > 0 ? EloRating.Fit(report.CheckerJudged) : new Dictionary<string, double>();
        WritePng(Path.Combine(dir, RoundsChart), RoundsPlot(report));
        if (rm.Count > 0 || checker.Count > 0) WritePng(Path.Combine(dir, EloChart), EloPlot(report, rm, checker));
        var path = Path.Combine(dir, MarkdownFile);
        AtomicFile.WriteAllText(path, Markdown(report, rm, checker));
        return path;
    }

    public static string Markdown(QualityReport r, IReadOnlyDictionary<string, double> rmElo, IReadOnlyDictionary<string, double> checkerElo)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double? v, string fmt) => v is null ? "–" : fmt == "P1" ? Pct(v.Value) : v.Value.ToString(fmt, inv);
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"# Quality report: run {r.RunId}");
        sb.AppendLine();
        sb.AppendLine(inv, $"Workflow `{r.Workflow}`, finished {r.Finished:yyyy-MM-dd HH:mm} UTC, wall time {r.WallTime:hh\\:mm\\:ss}.");
        sb.AppendLine();
        if (r.Rounds.Count > 0)
        {
            var b = r.Rounds[0];
            var last = r.Rounds[^1];
            if (b.Accuracy is { } ba && last.Accuracy is { } la)
                sb.AppendLine(inv, $"Base held-out exact-match accuracy: **{ba}**; after the last round: **{la}** (95% Wilson intervals).");
            else
                sb.AppendLine("Held-out accuracy: n/a (no verifier checked the answers; the reward model's win rate vs the previous round is the measure).");
            if (b.FreshAccuracy is { } fb && last.FreshAccuracy is { } fl)
                sb.AppendLine(inv, $"On {b.FreshTotal} fresh held-out prompts that no step used to choose a checkpoint: **{fb}** → **{fl}**.");
            sb.AppendLine();
            if (r.Rounds.Count > 1 && r.CheckerJudged.FirstOrDefault(p => p.A == b.Name && p.B == last.Name) is { } paired)
            {
                // The same prompts for both: the paired test sees a difference that two overlapping intervals can hide.
                var (onlyLast, onlyBase) = ((int)paired.WinsB, (int)paired.WinsA);
                var prompts = (int)(paired.WinsA + paired.WinsB + paired.Ties);
                var where = b.FreshTotal > 0 ? "fresh held-out prompts" : "held-out prompts";
                sb.AppendLine(inv, $"On the same {prompts} {where}, {last.Name} answered {onlyLast} right that the base got wrong, and the base {onlyBase} that {last.Name} got wrong: exact McNemar test p = {McNemarTest.PValue(onlyLast, onlyBase):G3}.");
                sb.AppendLine();
            }
        }
        var fresh = r.Rounds.Any(x => x.FreshTotal > 0);
        sb.AppendLine("| round | checkpoint | held-out exact match (95% CI) |" + (fresh ? " fresh test prompts (95% CI) |" : "") + " after SFT only | RM held-out acc. | win rate vs previous | SFT loss | DPO reward acc. | DPO margin | Elo (RM) | Elo (checker) |");
        sb.AppendLine("|---|---|---|" + (fresh ? "---|" : "") + "---|---|---|---|---|---|---|---|");
        foreach (var x in r.Rounds)
        {
            var ci = x.Accuracy?.ToString() ?? "n/a";
            sb.AppendLine(inv,
                $"| {x.Name} | `{Short(x.Checkpoint)}` | {ci} |{(fresh ? $" {x.FreshAccuracy?.ToString() ?? "–"} |" : "")} {F(x.SftExactMatch, "P1")} | {F(x.RewardModelAccuracy, "P1")} | {F(x.WinRateVsPrevious, "P1")} | {F(x.SftLoss, "F3")} | {F(x.DpoRewardAccuracy, "P1")} | {F(x.DpoRewardMargin, "F3")} | {F(rmElo.TryGetValue(x.Name, out var e1) ? e1 : null, "F0")} | {F(checkerElo.TryGetValue(x.Name, out var e2) ? e2 : null, "F0")} |");
        }
        sb.AppendLine();
        sb.AppendLine(inv, $"![Rounds]({RoundsChart})");
        sb.AppendLine();
        if (r.Rounds.Any(x => x.FewShotExactMatch is not null))
        {
            sb.AppendLine("## Few-shot exact match");
            sb.AppendLine();
            sb.AppendLine("The same held-out tasks with k solved tasks of the same kind as earlier turns (the shots come from tasks that are not held out): how much of a round's gain is the answer format.");
            sb.AppendLine();
            sb.AppendLine("| round | zero-shot | k | k-shot |");
            sb.AppendLine("|---|---|---|---|");
            foreach (var x in r.Rounds)
                sb.AppendLine(inv, $"| {x.Name} | {F(x.Accuracy?.Estimate, "P1")} | {(x.FewShots > 0 ? x.FewShots.ToString(inv) : "–")} | {F(x.FewShotExactMatch, "P1")} |");
            sb.AppendLine();
        }
        var blocks = r.Rounds.Max(x => x.LayerCosines?.Count ?? 0);
        if (blocks > 0)
        {
            sb.AppendLine("## Layer-wise cosine similarity");
            sb.AppendLine();
            sb.AppendLine("Each decoder block's mean cosine between its input and output hidden states on held-out conversations (MiniCPM, Yi): a block near 1 changes the residual stream little.");
            sb.AppendLine();
            sb.AppendLine("| round | " + string.Join(" | ", Enumerable.Range(0, blocks).Select(i => $"block {i}")) + " |");
            sb.AppendLine("|---|" + string.Concat(Enumerable.Range(0, blocks).Select(_ => "---|")));
            foreach (var x in r.Rounds.Where(x => x.LayerCosines is not null))
                sb.AppendLine("| " + x.Name + " | " + string.Join(" | ", Enumerable.Range(0, blocks).Select(i => F(i < x.LayerCosines!.Count ? x.LayerCosines[i] : null, "F3"))) + " |");
            sb.AppendLine();
        }
        var kinds = r.Rounds.SelectMany(x => x.ExactMatchByKind?.Keys ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
        if (kinds.Count > 0)
        {
            sb.AppendLine("## Exact match by task kind");
            sb.AppendLine();
            sb.AppendLine("The total can hide opposite moves: rejection sampling keeps the most data from the kinds the policy already solves.");
            sb.AppendLine();
            sb.AppendLine("| round | " + string.Join(" | ", kinds) + " |");
            sb.AppendLine("|---|" + string.Concat(kinds.Select(_ => "---|")));
            foreach (var x in r.Rounds)
                sb.AppendLine("| " + x.Name + " | " + string.Join(" | ", kinds.Select(k => F(x.ExactMatchByKind?.TryGetValue(k, out var v) == true ? v : null, "P1"))) + " |");
            sb.AppendLine();
        }
        if (r.Ablation is { } ablation) AppendAblation(sb, ablation);
        if (rmElo.Count > 0 || checkerElo.Count > 0)
        {
            sb.AppendLine("## Elo ratings");
            sb.AppendLine();
            sb.AppendLine("Bradley–Terry maximum-likelihood ratings on the Elo scale (mean 1000) from head-to-head comparisons of every round's selected policy on fresh held-out prompts (never used to choose a checkpoint), as chatbot arenas rate models.");
            sb.AppendLine();
            sb.AppendLine(inv, $"![Elo]({EloChart})");
            sb.AppendLine();
            sb.AppendLine("| judge | A | B | A wins | B wins | ties |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (var (judge, list) in new[] { ("RM", r.RmJudged), ("checker", r.CheckerJudged) })
                foreach (var p in list)
                    sb.AppendLine(inv, $"| {judge} | {p.A} | {p.B} | {p.WinsA:0.#} | {p.WinsB:0.#} | {p.Ties:0.#} |");
            sb.AppendLine();
        }
        if (r.ActivitySeconds.Count > 0)
        {
            sb.AppendLine("## Where the time went");
            sb.AppendLine();
            sb.AppendLine("| activity | seconds | share |");
            sb.AppendLine("|---|---|---|");
            var total = r.ActivitySeconds.Values.Sum();
            foreach (var (k, v) in r.ActivitySeconds.OrderByDescending(kv => kv.Value))
                sb.AppendLine(inv, $"| {k} | {v:F1} | {(total > 0 ? v / total : 0):P1} |");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static void AppendAblation(StringBuilder sb, AblationComparison a)
    {
        var inv = CultureInfo.InvariantCulture;
        var kinds = a.Rows.SelectMany(x => x.ByKind.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var (loop, one) = (a.Rows[^2], a.Rows[^1]);
        sb.AppendLine("## Ablation: iterating vs the same work in one round");
        sb.AppendLine();
        sb.AppendLine(inv, $"Run {a.AblationRunId} spent its post-training in {one.Rounds} round{(one.Rounds == 1 ? "" : "s")} from the same base and reward model (the rounds' prompts sampled as often, SFT and DPO on everything rejection kept); every policy answers the same {loop.Total} fresh held-out prompts.");
        sb.AppendLine();
        sb.AppendLine("| policy | fresh exact match (95% CI) | " + string.Join(" | ", kinds) + " | sampled responses | SFT examples | DPO pairs | post-training wall s |");
        sb.AppendLine("|---|---|" + string.Concat(kinds.Select(_ => "---|")) + "---|---|---|---|");
        foreach (var x in a.Rows)
            sb.AppendLine(inv, $"| {x.Name} | {x.Accuracy} | {string.Join(" | ", kinds.Select(k => x.ByKind.TryGetValue(k, out var v) ? Pct(v) : "–"))} | {x.SampledResponses:0} | {x.SftExamples:0} | {x.DpoPairs:0} | {x.PostTrainSeconds:F0} |");
        sb.AppendLine();
        sb.AppendLine(inv, $"On those prompts {loop.Name} answered {a.OnlyLoop} right that the {one.Name} policy got wrong, and that policy {a.OnlyAblation} that {loop.Name} got wrong: exact McNemar test p = {a.PValue:G3}.");
        sb.AppendLine();
    }

    private static Plot RoundsPlot(QualityReport r)
    {
        var plot = new Plot();
        var xs = r.Rounds.Select(x => (double)x.Round).ToArray();
        if (r.Rounds.All(x => x.Accuracy is not null))
        {
            var acc = r.Rounds.Select(x => x.Accuracy!).ToArray();
            var s = plot.Add.Scatter(xs, acc.Select(a => a.Estimate).ToArray());
            s.LegendText = "held-out exact match";
            // The Wilson interval is asymmetric near 0 and 1, so draw it as a band rather than symmetric error bars.
            var band = plot.Add.FillY(xs, acc.Select(a => a.Low).ToArray(), acc.Select(a => a.High).ToArray());
            band.FillColor = s.Color.WithAlpha(0.2);
            band.LegendText = "95% CI";
        }
        AddSeries(plot, r, x => x.WinRateVsPrevious, "win rate vs previous (RM)");
        AddSeries(plot, r, x => x.SftExactMatch, "exact match after SFT only");
        AddSeries(plot, r, x => x.RewardModelAccuracy, "RM held-out accuracy");
        AddSeries(plot, r, x => x.DpoRewardAccuracy, "DPO reward accuracy");
        plot.Title($"Run {r.RunId}: quality by round");
        plot.XLabel("round (0 = base)");
        plot.YLabel("rate");
        plot.Axes.SetLimitsY(0, 1.05);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static void AddSeries(Plot plot, QualityReport r, Func<RoundSummary, double?> pick, string label)
    {
        var pts = r.Rounds.Where(x => pick(x) is not null).ToArray();
        if (pts.Length == 0) return;
        var s = plot.Add.Scatter(pts.Select(x => (double)x.Round).ToArray(), pts.Select(x => pick(x)!.Value).ToArray());
        s.LegendText = label;
    }

    private static Plot EloPlot(QualityReport r, IReadOnlyDictionary<string, double> rm, IReadOnlyDictionary<string, double> checker)
    {
        var plot = new Plot();
        foreach (var (ratings, label) in new[] { (rm, "RM-judged"), (checker, "checker-judged") })
        {
            var pts = r.Rounds.Where(x => ratings.ContainsKey(x.Name)).ToArray();
            if (pts.Length == 0) continue;
            var s = plot.Add.Scatter(pts.Select(x => (double)x.Round).ToArray(), pts.Select(x => ratings[x.Name]).ToArray());
            s.LegendText = label;
        }
        plot.Title("Elo rating of each round's selected policy");
        plot.XLabel("round (0 = base)");
        plot.YLabel("Elo");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static void WritePng(string path, Plot plot)
    {
        var bytes = plot.GetImageBytes(900, 520, ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>"35.0%": invariant culture's P format puts a space before the sign.</summary>
    public static string Pct(double v) => (v * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
