using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

public sealed class WorkflowLayoutAndDeleteApiTests : IAsyncLifetime
{
    private TestStudio _studio = null!;

    public async Task InitializeAsync() => _studio = await TestStudio.StartAsync();

    public async Task DisposeAsync() => await _studio.DisposeAsync();

    private HttpClient Client => _studio.Client;

    private async Task<HttpResponseMessage> SaveAsync(string name, JsonObject doc)
    {
        var etag = (await Client.GetAsync($"api/workflows/{name}")).Headers.ETag!.Tag;
        var request = new HttpRequestMessage(HttpMethod.Put, $"api/workflows/{name}") { Content = new StringContent(doc.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
        return await Client.SendAsync(request);
    }

    [Fact]
    public async Task Save_WithNodePositions_KeepsThemLastInTheFileAndTheWorkflowStillRuns()
    {
        var doc = JsonNode.Parse(File.ReadAllText(_studio.PathOf("tiny-loop")))!.AsObject();
        doc["layout"] = new JsonObject { ["base"] = new JsonObject { ["x"] = 10, ["y"] = -20.5 }, ["sft"] = new JsonObject { ["x"] = 24, ["y"] = 40 } };
        var saved = await SaveAsync("tiny-loop", doc);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var text = File.ReadAllText(_studio.PathOf("tiny-loop"));
        Assert.True(text.IndexOf("\"layout\"", StringComparison.Ordinal) > text.IndexOf("\"outputs\": {\n    \"best\"", StringComparison.Ordinal), text);
        Assert.Equal(-20.5, JsonNode.Parse(text)!["layout"]!["base"]!["y"]!.GetValue<double>());
        await _studio.RunToEndAsync("tiny-loop", new { rounds = 1 });
    }

    [Fact]
    public async Task Save_MalformedPositions_Returns422NamingTheNode()
    {
        var doc = JsonNode.Parse(File.ReadAllText(_studio.PathOf("tiny-loop")))!.AsObject();
        doc["layout"] = new JsonObject { ["base"] = new JsonObject { ["x"] = "left" } };
        var response = await SaveAsync("tiny-loop", doc);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("$.layout.base", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Delete_WithStaleETagThenCurrent_412KeepsTheFileThen204RemovesIt()
    {
        var etag = (await Client.GetAsync("api/workflows/pair")).Headers.ETag!.Tag;
        File.AppendAllText(_studio.PathOf("pair"), "\n");
        var stale = new HttpRequestMessage(HttpMethod.Delete, "api/workflows/pair");
        stale.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Client.SendAsync(stale)).StatusCode);
        Assert.True(File.Exists(_studio.PathOf("pair")));

        var current = new HttpRequestMessage(HttpMethod.Delete, "api/workflows/pair");
        current.Headers.IfMatch.Add(new EntityTagHeaderValue((await Client.GetAsync("api/workflows/pair")).Headers.ETag!.Tag));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(current)).StatusCode);
        Assert.False(File.Exists(_studio.PathOf("pair")));
        Assert.DoesNotContain((await Client.GetFromJsonAsync<JsonArray>("api/workflows"))!, w => w!["name"]!.GetValue<string>() == "pair");
    }
}
