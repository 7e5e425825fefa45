using PostTrain.Engine.Store;
using PostTrain.Workflows.Reports;

namespace PostTrain.Workflows.Tests.Reports;

public sealed class RoundDiagnosticsReportTests
{
    private static StepRecord Step(string path, string type, int? round, string outputs) =>
        new() { Path = path, ActivityType = type, Round = round, State = StepState.Done, OutputsJson = outputs };

    private static MetricRecord Metric(string step, string name, double value) => new() { StepPath = step, Name = name, Value = value };

    [Fact]
    public void Rounds_FewShotMetrics_ReachTheRowsAndTheMarkdownTable()
    {
        StepRecord[] steps =
        [
            Step("pretrain", "Pretrain", null, """{"checkpoint":"sha256:aaaa"}"""),
            Step("rounds[0]/evaluate", "Evaluate", 0, "{}"),
            Step("rounds[0]/select", "SelectBest", 0, """{"best":"sha256:bbbb"}"""),
        ];
        MetricRecord[] metrics =
        [
            Metric("rounds[0]/select", "select/checked", 100), Metric("rounds[0]/select", "select/correct", 35),
            Metric("rounds[0]/select", "select/baseline_correct", 20),
            Metric("rounds[0]/select", "select/exact_match_fewshot", 0.41), Metric("rounds[0]/select", "select/baseline_exact_match_fewshot", 0.3),
            Metric("rounds[0]/evaluate", "eval/fewshot_k", 3),
        ];
        var rounds = RunReportBuilder.Rounds(steps, metrics);
        Assert.Equal([(0.3, 3), (0.41, 3)], rounds.Select(r => (r.FewShotExactMatch!.Value, r.FewShots)));

        var report = new QualityReport("r", "iterate", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1), rounds, [], [], new Dictionary<string, double>());
        var text = QualityReportWriter.Markdown(report, new Dictionary<string, double>(), new Dictionary<string, double>());
        Assert.Contains("## Few-shot exact match", text);
        Assert.Contains("| base | 20.0% | 3 | 30.0% |", text);
        Assert.Contains("| round 1 | 35.0% | 3 | 41.0% |", text);
    }

    [Fact]
    public void Rounds_LayerSimilaritySteps_PerCheckpointCosinesInBlockOrder_AndTheTable()
    {
        StepRecord[] steps =
        [
            Step("pretrain", "Pretrain", null, """{"checkpoint":"sha256:aaaa"}"""),
            Step("baseLayers", "LayerSimilarity", null, "{}"),
            Step("rounds[0]/select", "SelectBest", 0, """{"best":"sha256:bbbb"}"""),
            Step("rounds[0]/layers", "LayerSimilarity", 0, "{}"),
        ];
        // Twelve blocks: "10" must sort after "9", not after "1".
        var metrics = Enumerable.Range(0, 12).SelectMany(i => new[]
        {
            Metric("baseLayers", "diag/layer_cosine/" + i, 0.5 + i / 100.0),
            Metric("rounds[0]/layers", "diag/layer_cosine/" + i, 0.6 + i / 100.0),
        }).ToArray();
        var rounds = RunReportBuilder.Rounds(steps, metrics);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => 0.5 + i / 100.0), rounds[0].LayerCosines!);
        Assert.Equal(0.71, rounds[1].LayerCosines![11], 12);

        var report = new QualityReport("r", "iterate", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1), rounds, [], [], new Dictionary<string, double>());
        var text = QualityReportWriter.Markdown(report, new Dictionary<string, double>(), new Dictionary<string, double>());
        Assert.Contains("## Layer-wise cosine similarity", text);
        Assert.Contains("| round | block 0 | block 1 |", text);
        Assert.Contains("| base | 0.500 | 0.510 |", text);
        Assert.Contains(" 0.710 |", text);
    }

    [Fact]
    public void Markdown_NothingMeasured_NoFewShotOrLayerSection()
    {
        var report = new QualityReport("r", "iterate", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1),
            [new RoundSummary(0, "aaaa", 20, 100), new RoundSummary(1, "bbbb", 35, 100)], [], [], new Dictionary<string, double>());
        var text = QualityReportWriter.Markdown(report, new Dictionary<string, double>(), new Dictionary<string, double>());
        Assert.DoesNotContain("Few-shot", text);
        Assert.DoesNotContain("Layer-wise", text);
    }
}
