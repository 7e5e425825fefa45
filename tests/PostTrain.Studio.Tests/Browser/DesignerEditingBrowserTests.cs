using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests.Browser;

[Collection("browser")]
public sealed partial class DesignerEditingBrowserTests
{
    [ChromiumFact]
    public async Task Designer_CopyThenPaste_AddsACopyWithANewIdThatSaves()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await OpenAsync(studio, browser, "tiny-loop");
        // A container with its body: the copy's inner ids are new too, and its references follow them.
        await page.Locator("[data-testid=canvas] [data-testid=node-variants]").ClickAsync(new() { Position = new() { X = 12, Y = 10 } });
        await page.Keyboard.PressAsync("Control+c");
        // Pasted beside the selected node, in the same round, where sft.checkpoint is in reach.
        await page.Locator("[data-testid=canvas] [data-testid=node-sft]").ClickAsync();
        await page.Keyboard.PressAsync("Control+v");
        await page.Locator("[data-testid=canvas] [data-testid=node-variants2]").WaitForAsync();
        await page.Locator("[data-testid=canvas] [data-testid=node-dpo2]").WaitForAsync();
        await page.Locator("[data-testid=validity]", new() { HasTextString = "valid" }).WaitForAsync();
        await page.Locator("[data-testid=save]").ClickAsync();
        await page.Locator("[data-testid=banner]", new() { HasTextString = "saved workflows/tiny-loop.json" }).WaitForAsync();

        var saved = JsonNode.Parse(File.ReadAllText(studio.PathOf("tiny-loop")))!;
        var body = saved["activities"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == "rounds")!["body"]!.AsArray();
        var copy = body.Single(a => a!["id"]!.GetValue<string>() == "variants2")!;
        Assert.Equal("forEach", copy["type"]!.GetValue<string>());
        Assert.Equal("dpo2", copy["body"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("dpo2.checkpoint", copy["outputs"]!["checkpoints"]!["from"]!.GetValue<string>());
        Assert.Equal("sft.checkpoint", copy["body"]![0]!["inputs"]!["parent"]!["from"]!.GetValue<string>());
        // The original is untouched.
        Assert.Equal("dpo.checkpoint", body.Single(a => a!["id"]!.GetValue<string>() == "variants")!["outputs"]!["checkpoints"]!["from"]!.GetValue<string>());
    }

    [ChromiumFact]
    public async Task Designer_PaletteSearch_ShowsOnlyMatchesAndEnterAddsTheFirst()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await OpenAsync(studio, browser, "pair");
        var search = page.Locator("[data-testid=palette-search]");
        await search.FillAsync("best checkpoint");
        await page.Locator("[data-testid=palette-SelectByScore]").WaitForAsync();
        await Assertions.Expect(page.Locator("[data-testid=palette] .palette-item")).ToHaveCountAsync(1);
        await search.PressAsync("Enter");
        await page.Locator("[data-testid=canvas] [data-testid=node-selectByScore1]").WaitForAsync();
        await search.FillAsync("no such activity");
        await page.Locator("[data-testid=palette-empty]").WaitForAsync();
        await Assertions.Expect(page.Locator("[data-testid=palette] .palette-item")).ToHaveCountAsync(0);
        await search.FillAsync("");
        Assert.True(await page.Locator("[data-testid=palette] .palette-item").CountAsync() > 3);
    }

    [ChromiumFact]
    public async Task Designer_DragANode_PositionIsSavedInTheFileAndReloadedThenAutoLayoutForgetsIt()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await OpenAsync(studio, browser, "pair");
        var before = await FlowPositionAsync(page, "second");
        var box = await CanvasGeometry.BoxOf(page.Locator("[data-testid=canvas] [data-testid=node-second]"));
        await page.Mouse.MoveAsync((float)box.X + 40, (float)box.Y + 20);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync((float)box.X + 200, (float)box.Y + 180, new MouseMoveOptions { Steps = 10 });
        await page.Mouse.UpAsync();
        await page.Locator("[data-testid=save]").ClickAsync();
        await page.Locator("[data-testid=banner]", new() { HasTextString = "saved workflows/pair.json" }).WaitForAsync();

        var layout = JsonNode.Parse(File.ReadAllText(studio.PathOf("pair")))!["layout"]!;
        var x = layout["second"]!["x"]!.GetValue<double>();
        var y = layout["second"]!["y"]!.GetValue<double>();
        Assert.True(x > before.X + 20 && y > before.Y + 20, $"saved ({x}, {y}) is not where the node was dragged from ({before.X}, {before.Y})");
        Assert.NotNull(layout["first"]); // every node keeps its place once one is placed by hand

        // Reloaded: the node is where the file says.
        await page.ReloadAsync();
        await page.Locator("[data-testid=canvas] [data-testid=node-second]").WaitForAsync();
        await page.WaitForTimeoutAsync(300);
        Assert.Equal((x, y), await FlowPositionAsync(page, "second"));

        await page.Locator("[data-testid=auto-layout]").ClickAsync();
        await page.Locator("[data-testid=save]").ClickAsync();
        await page.Locator("[data-testid=banner]", new() { HasTextString = "saved workflows/pair.json" }).WaitForAsync();
        Assert.Null(JsonNode.Parse(File.ReadAllText(studio.PathOf("pair")))!["layout"]);
        Assert.Equal(before, await FlowPositionAsync(page, "second"));
    }

    [ChromiumFact]
    public async Task Designer_Delete_AsksFirstAndRemovesTheFileOnlyWhenConfirmed()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await OpenAsync(studio, browser, "pair");
        var asked = new List<string>();
        var accept = false;
        page.Dialog += async (_, dialog) =>
        {
            asked.Add(dialog.Message);
            if (accept) await dialog.AcceptAsync(); else await dialog.DismissAsync();
        };

        await page.Locator("[data-testid=delete-workflow]").ClickAsync();
        await page.WaitForTimeoutAsync(200);
        Assert.Equal(["Delete workflows/pair.json? This cannot be undone."], asked);
        Assert.True(File.Exists(studio.PathOf("pair")), "dismissing the question deleted the file");

        accept = true;
        await page.Locator("[data-testid=delete-workflow]").ClickAsync();
        await page.Locator("[data-testid=banner]", new() { HasTextString = "deleted workflows/pair.json" }).WaitForAsync();
        Assert.False(File.Exists(studio.PathOf("pair")));
        await Assertions.Expect(page.Locator("[data-testid=open-pair]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=open-tiny-loop]")).ToHaveCountAsync(1);
    }

    private static async Task<IPage> OpenAsync(TestStudio studio, StudioBrowser browser, string workflow)
    {
        var page = await browser.OpenAsync(studio.BaseAddress, $"#/designer/{workflow}");
        await page.Locator("[data-testid=canvas] .react-flow__node").First.WaitForAsync();
        await page.Locator("[data-testid=validity]", new() { HasTextString = "valid" }).WaitForAsync();
        await page.WaitForTimeoutAsync(300);
        return page;
    }

    /// <summary>A node's position in flow coordinates (relative to its container), from React Flow's transform.</summary>
    private static async Task<(double X, double Y)> FlowPositionAsync(IPage page, string id)
    {
        var style = await page.Locator($"[data-testid=canvas] .react-flow__node[data-id={id}]").GetAttributeAsync("style") ?? "";
        var m = Translate().Match(style);
        Assert.True(m.Success, $"no transform in '{style}'");
        return (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"translate\((-?[\d.]+)px,\s*(-?[\d.]+)px\)")]
    private static partial Regex Translate();
}
