using Microsoft.Playwright;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests.Browser;

[Collection("browser")]
public sealed class RunLinksBrowserTests
{
    [ChromiumFact]
    public async Task RunMonitor_FinishedRun_LinksToItsReportAndItsCheckpoints()
    {
        await using var studio = await TestStudio.StartAsync();
        var id = await studio.RunToEndAsync("tiny-loop", new { rounds = 2 });
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await browser.OpenAsync(studio.BaseAddress, $"#/runs/{id}");
        try
        {
            await page.Locator("[data-testid=run-monitor][data-run-state=succeeded]").WaitForAsync();
            await page.Locator("[data-testid=no-report]").WaitForAsync();

            // What `posttrain report` writes: HOME/runs/RUN/report.md and its charts.
            var dir = Path.Combine(studio.Root, "home", "runs", id);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "rounds.png"), Convert.FromBase64String(OnePixelPng));
            File.WriteAllText(Path.Combine(dir, "report.md"),
                "# Quality report: run x\n\nBase **23.4%**, after the last round **28.9%**.\n\n| round | exact match |\n|---|---|\n| 0 | 23.4% |\n| 6 | 28.9% |\n\n![Quality by round](rounds.png)\n");
            await page.ReloadAsync();
            await page.Locator("[data-testid=report-link]").ClickAsync();
            await page.Locator("[data-testid=report-page] h2", new() { HasTextString = "Quality report" }).WaitForAsync();
            Assert.Equal(["6", "28.9%"], await page.Locator("[data-testid=markdown] tbody tr").Nth(1).Locator("td").AllInnerTextsAsync());
            var image = page.Locator("[data-testid=markdown] img");
            await Assertions.Expect(image).ToHaveJSPropertyAsync("complete", true);
            Assert.Equal(1, await image.EvaluateAsync<int>("i => i.naturalWidth"));

            // The run's final model, and from there its files and the command that exports it.
            await page.GoBackAsync();
            await page.Locator("[data-testid=output-best]").ClickAsync();
            await page.Locator("[data-testid=checkpoint-page] [data-testid=checkpoint-files] a", new() { HasTextString = "value.txt" }).WaitForAsync();
            var reference = page.Url[(page.Url.IndexOf("#/checkpoints/", StringComparison.Ordinal) + 14)..];
            Assert.Matches("^sha256:[0-9a-f]{64}$", reference);
            Assert.Contains($"posttrain export {reference} --out DIR", await page.Locator("[data-testid=export-command]").InnerTextAsync());
            Assert.Equal(Path.Combine(studio.Root, "home", "artifacts", "objects", reference[7..]), await page.Locator("[data-testid=checkpoint-path]").InnerTextAsync());

            // Every checkpoint in the lineage table links to its page as well.
            await page.GotoAsync(new Uri(studio.BaseAddress, $"#/runs/{id}").ToString());
            await page.Locator($"[data-testid=checkpoint-link-{reference[7..19]}]").ClickAsync();
            await page.Locator("[data-testid=checkpoint-path]", new() { HasTextString = reference[7..] }).WaitForAsync();
            await StudioBrowser.ShotAsync(page, "checkpoint-page");
        }
        catch
        {
            await StudioBrowser.ShotAsync(page, "run-links-failure");
            throw;
        }
    }

    private const string OnePixelPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
}
