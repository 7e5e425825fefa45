using System.Text.RegularExpressions;
using PostTrain.Workflows.Metrics;

namespace PostTrain.Workflows.Tests.Reports;

public sealed class MetricKeysTests
{
    [Fact]
    public void Keys_AreDistinct_AndEachStageHasOnePrefix()
    {
        Assert.Equal(MetricKeys.All.Count, MetricKeys.All.Select(k => k.Key).Distinct().Count());
        foreach (var stage in MetricKeys.All.GroupBy(k => k.Stage))
            Assert.Single(stage.Select(k => k.Key.Split('/')[0]).Distinct());
        Assert.Contains(MetricKeys.All, k => k is { Stage: "Select", Name: "DpoRewardAccuracy", Key: "select/dpo/rewards/accuracies" });
    }

    [Fact]
    public void StageActivities_RecordNoMetricNameOfTheirOwn()
    {
        var dir = Path.Combine(Repo(), "src", "Workflows", "Activities", "Stages");
        var literal = new Regex(@"RecordMetric\(\$?""");
        var offenders = Directory.EnumerateFiles(dir, "*.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => literal.IsMatch(x.line))
            .Select(x => $"{Path.GetFileName(x.f)}:{x.i + 1}: {x.line.Trim()}").ToList();
        Assert.True(offenders.Count == 0, "metric names belong in MetricKeys:\n" + string.Join('\n', offenders));
    }

    private static string Repo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "PostTrain.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("PostTrain.sln not found above " + AppContext.BaseDirectory);
    }
}
