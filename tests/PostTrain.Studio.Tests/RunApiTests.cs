using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

public sealed class RunApiTests : IAsyncLifetime
{
    private TestStudio _studio = null!;

    public async Task InitializeAsync() => _studio = await TestStudio.StartAsync();

    public async Task DisposeAsync() => await _studio.DisposeAsync();

    private HttpClient Client => _studio.Client;

    private async Task<string> StartAsync(string workflow, object? parameters = null)
    {
        var response = await Client.PostAsJsonAsync("api/runs", new { workflow, parameters });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    private Task<List<(string Event, JsonNode? Data)>> FollowToEndAsync(string id) =>
        SseReader.ReadUntilAsync(Client, $"api/runs/{id}/events", (e, _) => e == "end", TimeSpan.FromSeconds(60));

    [Fact]
    public async Task StartRun_TinyLoop_StreamsUntilSucceededWithStepsMetricsAndLineage()
    {
        var id = await StartAsync("tiny-loop", new { rounds = 2 });
        var events = await FollowToEndAsync(id);

        Assert.Equal("end", events[^1].Event);
        var runs = events.Where(e => e.Event == "run").Select(e => e.Data!).ToList();
        Assert.True(runs.Count >= 2, $"expected live updates, got {runs.Count} run event(s)");
        var final = runs[^1];
        Assert.Equal("succeeded", final["state"]!.GetValue<string>());
        var steps = final["steps"]!.AsArray();
        // base, then per round: sft, two dpo variants, select = 1 + 2 * 4
        Assert.Equal(9, steps.Count(s => s!["activityType"]!.GetValue<string>() is "TinyTrain" or "SelectByScore"));
        Assert.All(steps.Where(s => s!["activityType"]!.GetValue<string>() is "TinyTrain" or "SelectByScore"), s =>
        {
            Assert.Equal("done", s!["state"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(s["worker"]?.GetValue<string>()), $"no worker for {s["path"]}");
            Assert.Contains(s["logs"]!.AsArray(), l => l!["message"]!.GetValue<string>().Contains("completed"));
        });
        Assert.Equal(["base", "dpo", "select", "sft"], steps.Select(s => s!["nodeId"]!.GetValue<string>()).Where(n => n is "base" or "sft" or "dpo" or "select").Distinct().Order().ToArray());
        Assert.Contains("\"activities\"", final["definitionJson"]!.GetValue<string>());

        var metrics = (await Client.GetFromJsonAsync<JsonArray>($"api/runs/{id}/metrics"))!;
        var sftRounds = metrics.Where(m => m!["name"]!.GetValue<string>() == "sft_loss" && m["nodeId"]!.GetValue<string>() == "sft")
            .Select(m => m!["round"]!.GetValue<int>()).Order().ToArray();
        Assert.Equal([0, 1], sftRounds);
        Assert.Contains(metrics, m => m!["name"]!.GetValue<string>() == "heldout_accuracy");

        var checkpoints = (await Client.GetFromJsonAsync<JsonArray>($"api/checkpoints?run={id}"))!;
        Assert.Equal(7, checkpoints.Count(c => c!["kind"]!.GetValue<string>() == "policy")); // base + 2 rounds × (sft + 2 dpo)
        var selected = checkpoints.Where(c => c!["selected"]!.GetValue<bool>()).ToList();
        Assert.Equal(2, selected.Count);
        var byId = checkpoints.ToDictionary(c => c!["artifact"]!.GetValue<string>());
        // Each selected DPO checkpoint descends from its round's SFT checkpoint.
        Assert.All(selected, s => Assert.Equal("sft", RunNode(byId[s!["parent"]!.GetValue<string>()]!["stepPath"]!.GetValue<string>())));
    }

    private static string RunNode(string stepPath) => Runs.RunViews.NodeIdOf(stepPath);

    [Fact]
    public async Task StartRun_ParameterOutOfRange_Returns422WithReason()
    {
        var response = await Client.PostAsJsonAsync("api/runs", new { workflow = "tiny-loop", parameters = new { rounds = 99 } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("above max 5", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StartRun_UnknownWorkflow_Returns404()
    {
        var response = await Client.PostAsJsonAsync("api/runs", new { workflow = "nope" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task StartRun_TraversalName_Returns400()
    {
        var response = await Client.PostAsJsonAsync("api/runs", new { workflow = "../tiny-loop" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task CancelThenResume_RunningRun_CancelsThenFinishes()
    {
        var id = await StartAsync("tiny-loop", new { rounds = 3 });
        var cancel = await Client.PostAsync($"api/runs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", JsonNode.Parse(await cancel.Content.ReadAsStringAsync())!["state"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await Client.PostAsync($"api/runs/{id}/cancel", null)).StatusCode);

        var resume = await Client.PostAsync($"api/runs/{id}/resume", null);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        var events = await FollowToEndAsync(id);
        Assert.Equal("succeeded", events.Last(e => e.Event == "run").Data!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Runs_ListAndGet_ShowTheRun()
    {
        var id = await StartAsync("pair");
        await FollowToEndAsync(id);
        var list = (await Client.GetFromJsonAsync<JsonArray>("api/runs"))!;
        var run = list.Single(r => r!["id"]!.GetValue<string>() == id)!;
        Assert.Equal("pair", run["workflow"]!.GetValue<string>());
        Assert.NotNull(run["finishedAt"]);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"api/runs/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"api/runs/{Guid.NewGuid()}/events")).StatusCode);
    }
}
