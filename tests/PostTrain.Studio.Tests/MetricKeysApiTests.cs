using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

/// <summary>The studio reads metric names from the API, the one list the activities record them from.</summary>
public sealed class MetricKeysApiTests : IAsyncLifetime
{
    private TestStudio _studio = null!;

    public async Task InitializeAsync() => _studio = await TestStudio.StartAsync();

    public async Task DisposeAsync() => await _studio.DisposeAsync();

    [Fact]
    public async Task MetricKeys_ListsEveryKeyWithItsStage()
    {
        var keys = (await _studio.Client.GetFromJsonAsync<JsonArray>("api/metrics/keys"))!;
        Assert.Equal(PostTrain.Workflows.Metrics.MetricKeys.All.Count, keys.Count);
        var rm = keys.Single(k => k!["key"]!.GetValue<string>() == "rm/heldout_accuracy")!;
        Assert.Equal("RewardModel", rm["stage"]!.GetValue<string>());
        Assert.Equal("HeldOutAccuracy", rm["name"]!.GetValue<string>());
        Assert.True(keys.Single(k => k!["key"]!.GetValue<string>() == "select/dpo/")!["isPrefix"]!.GetValue<bool>());
    }
}
