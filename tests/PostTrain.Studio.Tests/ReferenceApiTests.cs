using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

/// <summary>The editor asks the engine's ReferenceRules what a node may refer to, rather than keeping its own copy.</summary>
public sealed class ReferenceApiTests : IAsyncLifetime
{
    private const string Nested = """
        {"id":"w","activities":[
          {"id":"a","type":"Add","inputs":{"x":1}},
          {"id":"rounds","type":"repeat","count":2,"body":[
            {"id":"b","type":"Add","inputs":{"x":1}},
            {"id":"fan","type":"forEach","items":[1,2],"body":[
              {"id":"c","type":"Add","inputs":{"x":1}},
              {"id":"d","type":"Add","inputs":{"x":1}}]}]}]}
        """;

    private TestStudio _studio = null!;

    public async Task InitializeAsync() => _studio = await TestStudio.StartAsync();

    public async Task DisposeAsync() => await _studio.DisposeAsync();

    private Task<HttpResponseMessage> Post(string node, string body) =>
        _studio.Client.PostAsync($"api/references?node={node}", new StringContent(body, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task References_OfANestedNode_AreTheEnginesVerdict()
    {
        var response = await Post("d", Nested);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var refs = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["c", "b", "a"], refs["visible"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["b", "fan"], refs["previous"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["item", "index", "round"], refs["variables"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public async Task References_OfAnUnknownNodeOrABrokenDefinition_SayWhy()
    {
        var missing = await Post("nope", Nested);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("'nope'", await missing.Content.ReadAsStringAsync());
        var broken = await Post("a", """{"id":"w","activities":[""");
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Contains("malformed JSON at line 1", await broken.Content.ReadAsStringAsync());
    }
}
