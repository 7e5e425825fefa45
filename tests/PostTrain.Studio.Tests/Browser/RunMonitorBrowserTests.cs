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
            await page.Locator("[data-testid=chart-sft_loss]").WaitForAsync();
            await page.Locator("[data-testid=chart-heldout_accuracy]").WaitForAsync();
            await page.Locator("[data-testid=lineage]").WaitForAsync();

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
}
