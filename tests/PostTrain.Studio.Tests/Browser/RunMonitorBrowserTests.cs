using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests.Browser;

[Collection("browser")]
public sealed class RunMonitorBrowserTests
{
    [ChromiumFact]
    public async Task RunFromDesigner_TinyLoop_NodesTurnDoneWithChartsAndLineage()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await browser.OpenAsync(studio.BaseAddress, "#/designer/tiny-loop");
        try
        {
            await page.Locator("[data-testid=canvas] [data-testid=node-rounds]").WaitForAsync();
            await page.Locator("[data-testid=run]").ClickAsync();
            await page.Locator("[data-testid=run-dialog]").WaitForAsync();
            await page.Locator("[data-testid=value-run-rounds]").FillAsync("2");
            await page.Locator("[data-testid=start-run]").ClickAsync();

            await page.Locator("[data-testid=run-monitor]").WaitForAsync();
            Assert.Matches("#/runs/[0-9a-f-]{36}$", page.Url);
            await page.Locator("[data-testid=run-monitor][data-run-state=succeeded]").WaitForAsync(new() { Timeout = 60_000 });

            foreach (var node in new[] { "base", "sft", "dpo", "select", "variants", "rounds" })
                Assert.Equal("done", await page.Locator($"[data-testid=run-canvas] [data-testid=node-{node}]").GetAttributeAsync("data-state"));
            var states = await page.Locator("[data-testid=step-state]").AllInnerTextsAsync();
            Assert.True(states.Count >= 9, $"expected at least 9 steps, got {states.Count}");
            Assert.All(states, s => Assert.StartsWith("done", s));
            Assert.All(await page.Locator("[data-testid=step-worker]").AllInnerTextsAsync(), w => Assert.NotEqual("—", w));
            // Metrics by family: sft_loss is a loss, heldout_accuracy an accuracy, win_rate a win rate.
            await page.Locator("[data-testid=chart-loss]").WaitForAsync();
            await page.Locator("[data-testid=chart-accuracy]").WaitForAsync();
            await page.Locator("[data-testid=chart-win-rate]").WaitForAsync();
            Assert.Equal(3, await page.Locator("[data-testid=charts] figure").CountAsync());
            await page.Locator("[data-testid=lineage]").WaitForAsync();
            await CanvasGeometry.AssertAllInsideAsync(page, "run-canvas");
            await AssertCleanChainAsync(page, studio);

            // A step's log comes from the worker's reports.
            await page.Locator("[data-testid^='step-rounds[1]/select']").ClickAsync();
            await page.Locator("[data-testid=step-logs]", new() { HasTextString = "completed" }).WaitForAsync();
            await StudioBrowser.ShotAsync(page, "run-monitor-finished");
            if (RepositoryPaths.RefreshDocs)
            {
                // Tall enough for the graph, steps, charts and lineage in one picture.
                await page.SetViewportSizeAsync(1600, 1500);
                await page.WaitForTimeoutAsync(500);
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepositoryPaths.Docs, "studio-run-monitor.png") });
            }

            await page.Locator("[data-testid=nav-runs]").ClickAsync();
            await page.Locator("[data-testid=runs-list] [data-testid=run-state]", new() { HasTextString = "succeeded" }).WaitForAsync();
            await StudioBrowser.ShotAsync(page, "runs-list");
        }
        catch
        {
            await StudioBrowser.ShotAsync(page, "run-monitor-failure");
            throw;
        }
    }

    /// <summary>
    /// One node per checkpoint, at most one parent edge into each, none from a node to itself, all pointing right;
    /// the checkpoint a selection registered again still hangs from the model it was trained from.
    /// </summary>
    private static async Task AssertCleanChainAsync(IPage page, TestStudio studio)
    {
        var runId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var records = (await studio.Client.GetFromJsonAsync<JsonArray>($"api/checkpoints?run={runId}"))!;
        var artifacts = records.Select(c => c!["artifact"]!.GetValue<string>()).Distinct().Order().ToList();
        await Assertions.Expect(page.Locator("[data-testid=lineage-canvas] .react-flow__node")).ToHaveCountAsync(artifacts.Count);
        await page.WaitForTimeoutAsync(300); // the fit-view
        var nodes = await CanvasGeometry.NodesAsync(page, "lineage-canvas");
        var edges = await CanvasGeometry.EdgesAsync(page, "lineage-canvas");
        Assert.Equal(artifacts, nodes.Keys.Order().ToList());
        Assert.DoesNotContain(edges, e => e.Source == e.Target);
        Assert.All(edges.GroupBy(e => e.Target), g => Assert.Single(g));
        Assert.All(edges, e => Assert.True(nodes[e.Target].X > nodes[e.Source].Right, $"edge {e.Source} -> {e.Target} does not point right"));
        // base has no parent; every other checkpoint (7 of them, the selected ones included) has exactly one.
        Assert.Equal(artifacts.Count - 1, edges.Count);
        await CanvasGeometry.AssertAllInsideAsync(page, "lineage-canvas");
    }
}
