using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

public sealed class WorkflowApiTests : IAsyncLifetime
{
    private TestStudio _studio = null!;

    public async Task InitializeAsync() => _studio = await TestStudio.StartAsync();

    public async Task DisposeAsync() => await _studio.DisposeAsync();

    private HttpClient Client => _studio.Client;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<(JsonObject Doc, string ETag)> GetAsync(string name)
    {
        var response = await Client.GetAsync($"api/workflows/{name}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var etag = response.Headers.ETag?.Tag ?? throw new Xunit.Sdk.XunitException("no ETag header");
        return (JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject(), etag);
    }

    private async Task<HttpResponseMessage> PutAsync(string name, string body, string? ifMatch = null, bool createOnly = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"api/workflows/{name}") { Content = Json(body) };
        if (ifMatch is not null) request.Headers.IfMatch.Add(new EntityTagHeaderValue(ifMatch));
        if (createOnly) request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
        return await Client.SendAsync(request);
    }

    [Fact]
    public async Task ListWorkflows_DirectoryWithTwoFiles_ReturnsBothValid()
    {
        File.WriteAllText(_studio.PathOf("broken"), """{ "id": "broken", "activities": [ { "id": "a", "type": "Nope" } ] }""");
        var list = await Client.GetFromJsonAsync<JsonArray>("api/workflows");
        var byName = list!.ToDictionary(w => w!["name"]!.GetValue<string>());
        Assert.Equal(["broken", "pair", "tiny-loop"], byName.Keys.Order().ToArray());
        Assert.True(byName["tiny-loop"]!["valid"]!.GetValue<bool>());
        Assert.True(byName["pair"]!["valid"]!.GetValue<bool>());
        Assert.False(byName["broken"]!["valid"]!.GetValue<bool>());
        Assert.Equal("tiny-loop", byName["tiny-loop"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetWorkflow_Existing_ReturnsFileTextAndETag()
    {
        var response = await Client.GetAsync("api/workflows/pair");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(File.ReadAllText(_studio.PathOf("pair")), await response.Content.ReadAsStringAsync());
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task GetWorkflow_Missing_Returns404()
    {
        var response = await Client.GetAsync("api/workflows/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ValidateBody_UnknownTypeAndMissingInput_ReturnsProblemsWithJsonPaths()
    {
        var body = """{ "id": "x", "activities": [ { "id": "a", "type": "TinyTrain" }, { "id": "b", "type": "Nope" } ] }""";
        var response = await Client.PostAsync("api/validate", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.False(result["valid"]!.GetValue<bool>());
        var problems = result["problems"]!.AsArray().Select(p => (Path: p!["path"]!.GetValue<string>(), Message: p["message"]!.GetValue<string>())).ToList();
        Assert.Contains(problems, p => p.Path == "$.activities[0].inputs" && p.Message.Contains("missing required input 'value'"));
        Assert.Contains(problems, p => p.Path == "$.activities[1].type" && p.Message.Contains("unknown activity type 'Nope'"));
    }

    [Fact]
    public async Task ValidateSavedFile_ValidWorkflow_ReturnsValid()
    {
        var response = await Client.PostAsync("api/workflows/tiny-loop/validate", null);
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(result["valid"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Empty(result["problems"]!.AsArray());
    }

    [Fact]
    public async Task Save_WithCurrentETag_WritesStablyFormattedFileAndNewETag()
    {
        var (doc, etag) = await GetAsync("pair");
        doc["description"] = "Two steps in a row; it's edited";
        // Keys out of the file's order must come back in the definition's order.
        var shuffled = new JsonObject { ["activities"] = doc["activities"]!.DeepClone(), ["description"] = doc["description"]!.DeepClone(), ["version"] = 1, ["id"] = "pair" };
        var response = await PutAsync("pair", shuffled.ToJsonString(), etag);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var newTag = response.Headers.ETag!.Tag;
        Assert.NotEqual(etag, newTag);
        var text = File.ReadAllText(_studio.PathOf("pair"));
        Assert.EndsWith("}\n", text);
        Assert.StartsWith("{\n  \"id\": \"pair\",\n  \"version\": 1,\n  \"description\": \"Two steps in a row; it's edited\",\n  \"activities\": [\n    {\n      \"id\": \"first\",\n      \"type\": \"TinyTrain\",", text);
        // Saving the same document again changes nothing on disk: the format is a fixed point.
        var again = await PutAsync("pair", text, newTag);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(text, File.ReadAllText(_studio.PathOf("pair")));
        Assert.Equal(newTag, again.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Save_WithStaleETag_Returns412AndKeepsTheOtherSave()
    {
        var (doc, etag) = await GetAsync("pair");
        doc["description"] = "first editor";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync("pair", doc.ToJsonString(), etag)).StatusCode);
        doc["description"] = "second editor, stale";
        var response = await PutAsync("pair", doc.ToJsonString(), etag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Contains("changed since you loaded it", await response.Content.ReadAsStringAsync());
        Assert.Contains("first editor", File.ReadAllText(_studio.PathOf("pair")));
    }

    [Fact]
    public async Task Save_ExistingFileWithoutIfMatch_Returns428()
    {
        var before = File.ReadAllText(_studio.PathOf("pair"));
        var response = await PutAsync("pair", before);
        Assert.Equal((HttpStatusCode)428, response.StatusCode);
        Assert.Equal(before, File.ReadAllText(_studio.PathOf("pair")));
    }

    [Fact]
    public async Task Save_CreateOnlyWhenFileExists_Returns412()
    {
        var response = await PutAsync("pair", File.ReadAllText(_studio.PathOf("pair")), createOnly: true);
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
    }

    [Fact]
    public async Task Save_NewValidWorkflow_CreatesFile()
    {
        var body = """{ "id": "fresh", "activities": [ { "id": "a", "type": "TinyTrain", "inputs": { "value": 3 } } ] }""";
        var response = await PutAsync("fresh", body, createOnly: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var saved = JsonNode.Parse(File.ReadAllText(_studio.PathOf("fresh")))!;
        Assert.Equal(3, saved["activities"]![0]!["inputs"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task Save_InvalidDefinition_Returns422WithProblemsAndKeepsFile()
    {
        var (doc, etag) = await GetAsync("pair");
        var before = File.ReadAllText(_studio.PathOf("pair"));
        doc["activities"]![1]!["inputs"]!["value"] = new JsonObject { ["from"] = "missing.value" };
        var response = await PutAsync("pair", doc.ToJsonString(), etag);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains(body["problems"]!.AsArray(), p => p!["path"]!.GetValue<string>() == "$.activities[1].inputs.value"
            && p["message"]!.GetValue<string>().Contains("no activity has id 'missing'"));
        Assert.Equal(before, File.ReadAllText(_studio.PathOf("pair")));
    }

    [Fact]
    public async Task Save_MalformedJson_Returns400WithLineAndReason()
    {
        var (_, etag) = await GetAsync("pair");
        var before = File.ReadAllText(_studio.PathOf("pair"));
        var response = await PutAsync("pair", "{\n  \"id\": \"pair\",\n  \"activities\": [ ,\n}", etag);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("malformed JSON at line 3", body["error"]!.GetValue<string>());
        Assert.Equal(3, body["problems"]![0]!["line"]!.GetValue<int>());
        Assert.Equal(before, File.ReadAllText(_studio.PathOf("pair")));
    }

    [Fact]
    public async Task Validate_MalformedJson_Returns400()
    {
        var response = await Client.PostAsync("api/validate", Json("{ \"id\": "));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("malformed JSON", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("..%2F..%2Fescape")]
    [InlineData("..%2Fescape")]
    [InlineData("%2E%2E")]
    [InlineData("a.b")]
    [InlineData("-leading")]
    public async Task Save_NameThatCouldLeaveTheDirectory_Returns400AndWritesNothing(string name)
    {
        var body = """{ "id": "x", "activities": [ { "id": "a", "type": "TinyTrain", "inputs": { "value": 3 } } ] }""";
        var response = await PutAsync(name, body, createOnly: true);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"got {response.StatusCode}");
        Assert.False(File.Exists(Path.Combine(_studio.Root, "escape.json")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_studio.Root)!, "escape.json")));
        Assert.Equal(["pair.json", "tiny-loop.json"], Directory.GetFiles(_studio.Workflows).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Theory]
    [InlineData("evil%0A")]
    [InlineData("evil%0D%0A")]
    [InlineData("evil%00")]
    public async Task Save_NameWithTrailingNewlineOrControl_Returns400AndWritesNothing(string name)
    {
        var body = """{ "id": "evil", "activities": [ { "id": "a", "type": "TinyTrain", "inputs": { "value": 3 } } ] }""";
        var response = await PutAsync(name, body, createOnly: true);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["pair.json", "tiny-loop.json"], Directory.GetFiles(_studio.Workflows).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Fact]
    public async Task GetWorkflow_SymlinkInsideTheDirectory_NotFollowed()
    {
        var outside = Path.Combine(_studio.Root, "outside.json");
        File.WriteAllText(outside, """{ "id": "secret-outside" }""");
        File.CreateSymbolicLink(_studio.PathOf("link"), outside);
        var response = await Client.GetAsync("api/workflows/link");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("secret-outside", await response.Content.ReadAsStringAsync());
        var list = await Client.GetStringAsync("api/workflows");
        Assert.DoesNotContain("secret-outside", list);
    }

    [Fact]
    public async Task GetWorkflow_TraversalName_Returns400()
    {
        File.WriteAllText(Path.Combine(_studio.Root, "secret.json"), "{}");
        var response = await Client.GetAsync("api/workflows/..%2Fsecret");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("{}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Save_BodyOverTheLimit_Returns413()
    {
        var (_, etag) = await GetAsync("pair");
        var big = """{ "id": "pair", "description": "%", "activities": [] }""".Replace("%", new string('x', 100 * 1024));
        var response = await PutAsync("pair", big, etag);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Rename_WithETag_MovesFileAndRewritesId()
    {
        var (_, etag) = await GetAsync("pair");
        var response = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "api/workflows/pair/rename")
        {
            Content = Json("""{ "to": "couple" }"""),
            Headers = { IfMatch = { new EntityTagHeaderValue(etag) } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(File.Exists(_studio.PathOf("pair")));
        Assert.Equal("couple", JsonNode.Parse(File.ReadAllText(_studio.PathOf("couple")))!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Activities_ReturnsDescriptorsWithTypedInputsAndContainers()
    {
        var list = (await Client.GetFromJsonAsync<JsonArray>("api/activities"))!;
        var train = list.Single(a => a!["type"]!.GetValue<string>() == "TinyTrain")!;
        Assert.Equal("Test", train["category"]!.GetValue<string>());
        var inputs = train["inputs"]!.AsArray().ToDictionary(i => i!["name"]!.GetValue<string>());
        Assert.Equal("number", inputs["value"]!["type"]!.GetValue<string>());
        Assert.True(inputs["value"]!["required"]!.GetValue<bool>());
        Assert.Equal(200, inputs["ms"]!["default"]!.GetValue<int>());
        Assert.Equal("artifact", inputs["parent"]!["type"]!.GetValue<string>());
        Assert.Contains(list, a => a!["type"]!.GetValue<string>() == "repeat");
        Assert.Contains(list, a => a!["type"]!.GetValue<string>() == "forEach");
    }

    [Fact]
    public async Task OpenApi_ServesDocumentWithTheApi()
    {
        var doc = JsonNode.Parse(await Client.GetStringAsync("openapi"))!;
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/workflows", paths);
        Assert.Contains("/api/workflows/{name}", paths);
        Assert.Contains("/api/runs/{id}/events", paths);
    }

    [Fact]
    public async Task Index_ServesTheFrontEnd()
    {
        var html = await Client.GetStringAsync("");
        Assert.Contains("<div id=\"root\">", html);
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"\\./(assets/[^\"]+\\.js)\"").Groups[1].Value;
        Assert.NotEmpty(script);
        var js = await Client.GetAsync(script);
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
    }

    [Fact]
    public async Task UnknownApiPath_Returns404Json()
    {
        var response = await Client.GetAsync("api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no API endpoint", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Request_NonLoopbackHostHeaderWithoutToken_Returns403()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "api/workflows");
        request.Headers.Host = "evil.example";
        var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Create_SecondStudioOnTheSameHome_Throws()
    {
        var ex = Assert.ThrowsAny<Exception>(() => StudioHost.Create(new StudioOptions
        {
            Urls = "http://127.0.0.1:0",
            Home = _studio.Host.Options.Home,
            WorkflowsDirectory = _studio.Workflows,
        }));
        Assert.Contains("in use", ex.Message);
        await Task.CompletedTask;
    }

    [Fact]
    public void Formatter_ShuffledKeys_WritesDefinitionOrderWithTwoSpacesAndNewline()
    {
        var node = JsonNode.Parse("""{"activities":[{"inputs":{"x":{"initial":1,"fromPrevious":"a.b"}},"type":"T","id":"a"}],"id":"w","extra":true}""")!;
        var text = Files.WorkflowFileFormatter.Format(node);
        Assert.Equal("""
            {
              "id": "w",
              "activities": [
                {
                  "id": "a",
                  "type": "T",
                  "inputs": {
                    "x": {
                      "fromPrevious": "a.b",
                      "initial": 1
                    }
                  }
                }
              ],
              "extra": true
            }

            """.ReplaceLineEndings("\n"), text);
    }
}
