using Microsoft.Playwright;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests.Browser;

[Collection("browser")]
public sealed class MetricChartsBrowserTests
{
    /// <summary>
    /// Sixteen keys over three rounds (<see cref="MetricsLoop"/>, Activities/ReportMetricsActivity.cs) make six
    /// charts, one per family or per family's kinds, and a counts table; the keys include ones no stage records
    /// today (few-shot accuracy, per-layer similarity), so the grouping must come from the keys' structure.
    /// </summary>
    [ChromiumFact]
    public async Task RunMonitor_MetricsOfThreeRounds_OneChartPerFamilyWithKindsAsLinesOfOneChart()
    {
        await using var studio = await TestStudio.StartAsync();
        File.WriteAllText(studio.PathOf("metrics-loop"), MetricsLoop);
        var id = await studio.RunToEndAsync("metrics-loop");
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await browser.OpenAsync(studio.BaseAddress, $"#/runs/{id}");
        try
        {
            await page.Locator("[data-testid=run-monitor][data-run-state=succeeded]").WaitForAsync();
            await page.Locator("[data-testid=charts]").WaitForAsync();
            var charts = new List<string>();
            foreach (var f in await page.Locator("[data-testid=charts] figure").AllAsync()) charts.Add((await f.GetAttributeAsync("data-testid"))!);
            Assert.Equal(["chart-accuracy", "chart-accuracy-by-kind", "chart-loss", "chart-reward-by-kind", "chart-throughput", "chart-similarity-by-kind"], charts);

            // The candidate whose key carries a new hash every round is one line with three points, not three keys.
            Assert.Equal(["eval/c0/exact_match", "eval/fewshot_accuracy", "select/exact_match"], await LinesAsync(page, "chart-accuracy"));
            Assert.Equal(3, await page.Locator("[data-testid=chart-accuracy] [data-label='eval/c0/exact_match'] circle").CountAsync());
            Assert.Equal(["dpo/loss", "sft/train/loss"], await LinesAsync(page, "chart-loss"));

            // Exact match per task kind: one line per kind; the other keys with kinds are a choice of the same chart.
            Assert.Equal(["Addition", "Sorting"], await LinesAsync(page, "chart-accuracy-by-kind"));
            var picker = page.Locator("[data-testid=kinds-of-accuracy-by-kind]");
            Assert.Equal(["select/exact_match", "eval/c0/exact_match"], await picker.Locator("option").AllInnerTextsAsync());
            await picker.SelectOptionAsync("eval/c0/exact_match");
            Assert.Equal(["Addition", "Sorting"], await LinesAsync(page, "chart-accuracy-by-kind"));
            Assert.Equal(["chosen", "margins"], await LinesAsync(page, "chart-reward-by-kind"));
            Assert.Equal(["0", "1", "2"], await LinesAsync(page, "chart-similarity-by-kind"));

            // A count is a row of a table, not a chart.
            await page.Locator("[data-testid=run-counts] summary").ClickAsync();
            await page.Locator("[data-testid=run-counts] td", new() { HasTextString = "reject/pairs_kept" }).WaitForAsync();
            await StudioBrowser.ShotAsync(page, "run-monitor-metrics");
        }
        catch
        {
            await StudioBrowser.ShotAsync(page, "run-monitor-metrics-failure");
            throw;
        }
    }

    private const string MetricsLoop = """
        {
          "id": "metrics-loop",
          "activities": [
            { "id": "rounds", "type": "repeat", "count": 3, "body": [ { "id": "metrics", "type": "ReportMetrics" } ] }
          ]
        }
        """;

    private static async Task<List<string>> LinesAsync(IPage page, string chart)
    {
        var labels = new List<string>();
        foreach (var line in await page.Locator($"[data-testid={chart}] [data-testid=line]").AllAsync()) labels.Add((await line.GetAttributeAsync("data-label"))!);
        return labels;
    }
}
