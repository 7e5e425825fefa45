using Microsoft.Playwright;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests.Browser;

[Collection("browser")]
public sealed class IterateDesignerBrowserTests
{
    [ChromiumFact]
    public async Task Designer_IterateWorkflow_DrawsContainersAroundTheirBodies()
    {
        await using var studio = await TestStudio.StartAsync(copyWorkflows: false);
        File.Copy(Path.Combine(RepositoryPaths.Workflows, "iterate.json"), studio.PathOf("iterate"));
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await browser.OpenAsync(studio.BaseAddress, "#/designer/iterate");
        await page.Locator("[data-testid=canvas] [data-testid=node-rounds]").WaitForAsync();
        await Assertions.Expect(page.Locator("[data-testid=validity]")).Not.ToContainTextAsync("validating");
        await page.WaitForTimeoutAsync(400); // the fit-view animation
        await page.Locator("[data-testid=canvas] [data-testid=node-sft]").ClickAsync();
        await page.Locator("[data-testid=inspector]").WaitForAsync();

        // The repeat contains the round's activities; the DPO forEach inside it contains its train step.
        await AssertInsideAsync(page, "sft", "rounds");
        await AssertInsideAsync(page, "dpo", "rounds");
        await AssertInsideAsync(page, "train", "dpo");
        await AssertInsideAsync(page, "shard", "sample");
        var outside = await BoxAsync(page, "tasks");
        var rounds = await BoxAsync(page, "rounds");
        Assert.False(Contains(rounds, outside), "tasks is drawn inside rounds");

        await StudioBrowser.ShotAsync(page, "designer-iterate");
        if (RepositoryPaths.RefreshDocs)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepositoryPaths.Docs, "studio-designer.png") });
    }

    private static async Task AssertInsideAsync(IPage page, string inner, string outer) =>
        Assert.True(Contains(await BoxAsync(page, outer), await BoxAsync(page, inner)), $"{inner} is not drawn inside {outer}");

    private static async Task<LocatorBoundingBoxResult> BoxAsync(IPage page, string id) =>
        await page.Locator($"[data-testid=canvas] [data-testid=node-{id}]").BoundingBoxAsync() ?? throw new Xunit.Sdk.XunitException($"node {id} has no box");

    private static bool Contains(LocatorBoundingBoxResult outer, LocatorBoundingBoxResult inner) =>
        inner.X >= outer.X - 0.5 && inner.Y >= outer.Y - 0.5 && inner.X + inner.Width <= outer.X + outer.Width + 0.5 && inner.Y + inner.Height <= outer.Y + outer.Height + 0.5;
}
