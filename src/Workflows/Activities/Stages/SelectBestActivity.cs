using System.Text.Json;
using PostTrain.Model.Checkpoints;
using PostTrain.Trainers.Evaluation;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("SelectBest", Category = "Evaluation",
    Description = "Chooses the round's best candidate as the next sampler from Evaluate's report, by a documented rule (exact match first where a checker exists, win rate as tie-breaker), and records the choice and its figures.")]
public sealed class SelectBestActivity : Activity<SelectBestActivity.Inputs, SelectBestActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Candidate checkpoints, in the order Evaluate saw them", Required = true)] public ArtifactRef[] Candidates { get; init; } = [];
        [Input("Evaluate's report", Required = true)] public ArtifactRef Report { get; init; }
        [Input("The round's sampler, recorded in lineage")] public ArtifactRef? Sampler { get; init; }
        [Input("The round's reward model, recorded in lineage")] public ArtifactRef? RewardModel { get; init; }
        [Input("ExactMatchThenWinRate or WinRateThenExactMatch")] public string Rule { get; init; } = nameof(SelectionRule.ExactMatchThenWinRate);
    }

    public sealed class Outputs
    {
        [Output("The selected checkpoint: the next round's sampler")] public ArtifactRef Best { get; init; }
        [Output("Why it won")] public string Reason { get; init; } = "";
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (!Enum.TryParse<SelectionRule>(input.Rule, ignoreCase: true, out var rule))
            throw new ArgumentException($"Rule is '{input.Rule}', expected one of {string.Join(", ", Enum.GetNames<SelectionRule>())}");
        var reportPath = StageSupport.PathOf(context, input.Report, "evaluation report");
        var report = SelectionResult.FromJson(File.ReadAllText(reportPath), reportPath);
        var index = input.Candidates.Select((c, i) => (c, i)).ToDictionary(x => EvaluateActivity.Name(x.c, x.i), x => x.c);
        // Only the given candidates compete; the report may also hold the SFT model, evaluated for the record.
        var ranking = report.Ranking.Where(e => index.ContainsKey(e.Name)).ToList();
        if (ranking.Count == 0) throw new InvalidDataException($"{reportPath}: none of the {input.Candidates.Length} candidates given was evaluated");
        var selection = Evaluator.SelectBest(ranking, rule);
        if (!index.TryGetValue(selection.Best, out var best))
            throw new InvalidDataException($"{reportPath}: best candidate '{selection.Best}' is not among the {input.Candidates.Length} candidates given");
        var e = selection.Ranking[0];
        context.RecordMetric(MetricKeys.Select.WinRate, e.WinRate);
        context.RecordMetric(MetricKeys.Select.WinRateLow, e.WinRateLow);
        context.RecordMetric(MetricKeys.Select.WinRateHigh, e.WinRateHigh);
        context.RecordMetric(MetricKeys.Select.Correct, e.Correct);
        context.RecordMetric(MetricKeys.Select.Checked, e.Checked);
        if (e.ExactMatch is { } em) context.RecordMetric(MetricKeys.Select.ExactMatch, em);
        if (e.FewShotExactMatch is { } fem) context.RecordMetric(MetricKeys.Select.ExactMatchFewShot, fem);
        if (report.BaselineFewShotExactMatch is { } bfem) context.RecordMetric(MetricKeys.Select.BaselineExactMatchFewShot, bfem);
        foreach (var (kind, kem) in e.ExactMatchByKind) context.RecordMetric(MetricKeys.Select.ExactMatchOf(kind), kem);
        if (report.BaselineExactMatch is { } b)
        {
            context.RecordMetric(MetricKeys.Select.BaselineExactMatch, b);
            context.RecordMetric(MetricKeys.Select.BaselineCorrect, Math.Round(b * e.Checked));
        }
        // The winner's own training figures (a DPO checkpoint's metadata carries them), for the round table.
        var meta = Path.Combine(context.Artifacts.PathOf(best), Checkpoint.MetadataFile);
        if (File.Exists(meta) && JsonDocument.Parse(File.ReadAllText(meta)).RootElement is { ValueKind: JsonValueKind.Object } root
            && root.TryGetProperty("metrics", out var metricsJson) && metricsJson.ValueKind == JsonValueKind.String)
        {
            using var metrics = JsonDocument.Parse(metricsJson.GetString()!);
            foreach (var p in metrics.RootElement.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Number && double.IsFinite(p.Value.GetDouble())) context.RecordMetric(MetricKeys.Select.DpoPrefix + p.Name, p.Value.GetDouble());
        }
        context.RegisterCheckpoint(best, "selected", sampler: input.Sampler, rewardModel: input.RewardModel,
            name: context.Round is int r ? $"round {r + 1} selected" : "selected");
        return Task.FromResult(new Outputs { Best = best, Reason = selection.Reason });
    }
}
