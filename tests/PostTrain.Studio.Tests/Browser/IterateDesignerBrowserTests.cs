using System.Text.Json.Nodes;
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
        var page = await OpenIterateAsync(studio, browser);
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

    [ChromiumFact]
    public async Task Designer_IterateWorkflow_NoTwoNodeBoxesOverlapAndNoneIsClipped()
    {
        await using var studio = await TestStudio.StartAsync(copyWorkflows: false);
        File.Copy(Path.Combine(RepositoryPaths.Workflows, "iterate.json"), studio.PathOf("iterate"));
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await OpenIterateAsync(studio, browser);
        try
        {
            // Who contains whom, from the file: a container's box holds its body, any other two boxes are apart.
            var ancestors = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            void Walk(JsonArray nodes, HashSet<string> above)
            {
                foreach (var n in nodes)
                {
                    var id = n!["id"]!.GetValue<string>();
                    ancestors[id] = above;
                    if (n["body"] is JsonArray body) Walk(body, [.. above, id]);
                }
            }
            Walk(JsonNode.Parse(File.ReadAllText(studio.PathOf("iterate")))!["activities"]!.AsArray(), []);

            var boxes = await CanvasGeometry.NodesAsync(page, "canvas");
            Assert.Equal(ancestors.Keys.Order(), boxes.Keys.Order());
            var overlaps = new List<string>();
            foreach (var (a, boxA) in boxes)
                foreach (var (b, boxB) in boxes)
                {
                    if (string.CompareOrdinal(a, b) >= 0) continue;
                    if (ancestors[a].Contains(b)) Assert.True(boxB.Contains(boxA), $"{a} {boxA} sticks out of its container {b} {boxB}");
                    else if (ancestors[b].Contains(a)) Assert.True(boxA.Contains(boxB), $"{b} {boxB} sticks out of its container {a} {boxA}");
                    else if (boxA.Overlaps(boxB)) overlaps.Add($"{a} {boxA} and {b} {boxB}");
                }
            // A container's title line must not run into its body either.
            foreach (var title in await page.Locator("[data-testid=canvas] [data-container=true] .wf-node-title").AllAsync())
            {
                var titleBox = await CanvasGeometry.BoxOf(title);
                foreach (var (id, box) in boxes)
                    if (titleBox.Overlaps(box) && !box.Contains(titleBox)) overlaps.Add($"a container's title {titleBox} and {id} {box}");
            }
            Assert.True(overlaps.Count == 0, "overlapping boxes: " + string.Join("; ", overlaps));
            await CanvasGeometry.AssertAllInsideAsync(page, "canvas");
        }
        catch
        {
            await StudioBrowser.ShotAsync(page, "designer-iterate-overlap-failure");
            throw;
        }
    }

    private static async Task<IPage> OpenIterateAsync(TestStudio studio, StudioBrowser browser)
    {
        var page = await browser.OpenAsync(studio.BaseAddress, "#/designer/iterate");
        await page.Locator("[data-testid=canvas] [data-testid=node-rounds]").WaitForAsync();
        await Assertions.Expect(page.Locator("[data-testid=validity]")).Not.ToContainTextAsync("validating");
        await page.WaitForTimeoutAsync(400); // the fit-view
        return page;
    }

    private static async Task AssertInsideAsync(IPage page, string inner, string outer) =>
        Assert.True(Contains(await BoxAsync(page, outer), await BoxAsync(page, inner)), $"{inner} is not drawn inside {outer}");

    private static async Task<LocatorBoundingBoxResult> BoxAsync(IPage page, string id) =>
        await page.Locator($"[data-testid=canvas] [data-testid=node-{id}]").BoundingBoxAsync() ?? throw new Xunit.Sdk.XunitException($"node {id} has no box");

    private static bool Contains(LocatorBoundingBoxResult outer, LocatorBoundingBoxResult inner) =>
        inner.X >= outer.X - 0.5 && inner.Y >= outer.Y - 0.5 && inner.X + inner.Width <= outer.X + outer.Width + 0.5 && inner.Y + inner.Height <= outer.Y + outer.Height + 0.5;
}
