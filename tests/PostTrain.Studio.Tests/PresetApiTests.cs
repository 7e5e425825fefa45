using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

/// <summary>A preset chosen in the studio's Run dialog means what <c>--preset</c> means on the command line: workflows/presets/NAME.json.</summary>
public sealed class PresetApiTests : IAsyncLifetime
{
    private TestStudio _studio = null!;

    public async Task InitializeAsync() => _studio = await TestStudio.StartAsync();

    public async Task DisposeAsync() => await _studio.DisposeAsync();

    [Fact]
    public async Task StartRun_PresetParameter_TakesTheValuesOfThePresetFile()
    {
        await File.WriteAllTextAsync(_studio.PathOf("preset-probe"), """
            { "id": "preset-probe", "version": 1,
              "parameters": { "preset": { "type": "string", "default": "slow" }, "seconds": { "type": "int", "default": 30, "min": 0, "max": 60 } },
              "activities": [ { "id": "wait", "type": "Delay", "inputs": { "seconds": { "param": "seconds" }, "value": "x" } } ] }
            """);
        Directory.CreateDirectory(Path.Combine(_studio.Workflows, "presets"));
        await File.WriteAllTextAsync(Path.Combine(_studio.Workflows, "presets", "quick.json"), """{ "workflows": { "preset-probe": { "seconds": 0 } } }""");

        async Task<JsonNode> Start(object parameters)
        {
            var response = await _studio.Client.PostAsJsonAsync("api/runs", new { workflow = "preset-probe", parameters });
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        }
        var quick = await Start(new { preset = "quick" });
        Assert.Equal(0, quick["parameters"]!["seconds"]!.GetValue<int>());
        var explicitValue = await Start(new { preset = "quick", seconds = 2 });
        Assert.Equal(2, explicitValue["parameters"]!["seconds"]!.GetValue<int>());
        var noFile = await Start(new { });
        Assert.Equal(30, noFile["parameters"]!["seconds"]!.GetValue<int>());
    }
}
