using System.Text.Json.Nodes;
using Microsoft.Playwright;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests.Browser;

[Collection("browser")]
public sealed class DesignerBrowserTests
{
    [ChromiumFact]
    public async Task Designer_AddConnectSetInput_ErrorAppearsThenClearsAndSaveWritesJson()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await browser.OpenAsync(studio.BaseAddress, "#/designer/pair");
        try
        {
            await page.Locator("[data-testid=node-first]").WaitForAsync();
            await page.Locator("[data-testid=validity]", new() { HasTextString = "valid" }).WaitForAsync();

            // Drag an activity from the palette onto an empty part of the canvas.
            await page.Locator("[data-testid=palette-TinyTrain]").DragToAsync(page.Locator("[data-testid=canvas]"),
                new LocatorDragToOptions { TargetPosition = new TargetPosition { X = 300, Y = 600 } });
            await page.Locator("[data-testid=node-tinyTrain1]").WaitForAsync();

            // Its required input is unset: the server's validator flags the node and the field.
            await page.Locator("[data-testid=problems-tinyTrain1]").WaitForAsync();
            await page.Locator("[data-testid=input-value] [data-testid=field-problems]", new() { HasTextString = "missing required input 'value'" }).WaitForAsync();
            Assert.Contains("problem", await page.Locator("[data-testid=validity]").InnerTextAsync());
            await StudioBrowser.ShotAsync(page, "designer-1-error");

            // Connect second → train1 by dragging between their handles.
            await ConnectAsync(page, "second", "tinyTrain1");
            await page.Locator(".react-flow__edge.edge-order[data-id*=\"second->tinyTrain1\"]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

            // Set the input to another node's output, chosen from a list.
            await page.Locator("[data-testid=node-tinyTrain1]").ClickAsync();
            await page.Locator("[data-testid=mode-value]").SelectOptionAsync("from");
            await page.Locator("[data-testid=ref-value]").SelectOptionAsync("second.value");
            await page.Locator("[data-testid=problems-tinyTrain1]").WaitForAsync(new() { State = WaitForSelectorState.Detached });
            await page.Locator("[data-testid=validity]", new() { HasTextString = "valid" }).WaitForAsync();
            Assert.Equal("valid", (await page.Locator("[data-testid=validity]").InnerTextAsync()).Trim());
            await StudioBrowser.ShotAsync(page, "designer-2-valid");

            await page.Locator("[data-testid=save]").ClickAsync();
            await page.Locator("[data-testid=banner]", new() { HasTextString = "saved workflows/pair.json" }).WaitForAsync();
            var saved = JsonNode.Parse(File.ReadAllText(studio.PathOf("pair")))!;
            var added = saved["activities"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == "tinyTrain1")!;
            Assert.Equal("TinyTrain", added["type"]!.GetValue<string>());
            Assert.Equal("second.value", added["inputs"]!["value"]!["from"]!.GetValue<string>());
            Assert.Contains(saved["connections"]!.AsArray(), c => c!["from"]!.GetValue<string>() == "second" && c["to"]!.GetValue<string>() == "tinyTrain1");
            Assert.EndsWith("}\n", File.ReadAllText(studio.PathOf("pair")));
            await StudioBrowser.ShotAsync(page, "designer-3-saved");
        }
        catch
        {
            await StudioBrowser.ShotAsync(page, "designer-failure");
            throw;
        }
    }

    [ChromiumFact]
    public async Task Designer_UndoAfterAdd_RemovesTheNodeAndRedoRestoresIt()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await browser.OpenAsync(studio.BaseAddress, "#/designer/pair");
        await page.Locator("[data-testid=node-first]").WaitForAsync();
        await page.Locator("[data-testid=palette-SelectByScore]").DblClickAsync();
        await page.Locator("[data-testid=node-selectByScore1]").WaitForAsync();
        await page.Locator("[data-testid=undo]").ClickAsync();
        await page.Locator("[data-testid=node-selectByScore1]").WaitForAsync(new() { State = WaitForSelectorState.Detached });
        await page.Locator("[data-testid=redo]").ClickAsync();
        await page.Locator("[data-testid=node-selectByScore1]").WaitForAsync();
    }

    [ChromiumFact]
    public async Task Designer_SaveAfterFileChangedOnDisk_ShowsConflictAndOverwriteKeepsTheEdit()
    {
        await using var studio = await TestStudio.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync();
        var page = await browser.OpenAsync(studio.BaseAddress, "#/designer/pair");
        await page.Locator("[data-testid=node-first]").WaitForAsync();

        // Someone else saves the file after the designer loaded it.
        File.WriteAllText(studio.PathOf("pair"), File.ReadAllText(studio.PathOf("pair")).Replace("Two steps in a row.", "changed elsewhere"));
        await page.Locator("[data-testid=workflow-panel] textarea").First.FillAsync("the designer's edit");
        await page.Locator("[data-testid=save]").ClickAsync();
        await page.Locator("[data-testid=banner]", new() { HasTextString = "changed on disk" }).WaitForAsync();
        Assert.Contains("changed elsewhere", File.ReadAllText(studio.PathOf("pair")));
        await StudioBrowser.ShotAsync(page, "designer-conflict");

        // Overwrite is a deliberate choice: the designer's version replaces the other one.
        await page.Locator("[data-testid=banner] button", new() { HasTextString = "Overwrite" }).ClickAsync();
        await page.Locator("[data-testid=banner]", new() { HasTextString = "saved workflows/pair.json" }).WaitForAsync();
        var text = File.ReadAllText(studio.PathOf("pair"));
        Assert.Contains("the designer's edit", text);
        Assert.DoesNotContain("changed elsewhere", text);
    }

    internal static async Task ConnectAsync(IPage page, string from, string to)
    {
        var source = await page.Locator($".react-flow__node[data-id={from}] .react-flow__handle.source").BoundingBoxAsync();
        var target = await page.Locator($".react-flow__node[data-id={to}] .react-flow__handle.target").BoundingBoxAsync();
        Assert.NotNull(source);
        Assert.NotNull(target);
        await page.Mouse.MoveAsync(source!.X + source.Width / 2, source.Y + source.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(target!.X + target.Width / 2, target.Y + target.Height / 2, new MouseMoveOptions { Steps = 12 });
        await page.Mouse.UpAsync();
    }
}
