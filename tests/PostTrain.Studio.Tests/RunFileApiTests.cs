using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests;

public sealed class RunFileApiTests : IAsyncLifetime
{
    private TestStudio _studio = null!;

    public async Task InitializeAsync() => _studio = await TestStudio.StartAsync();

    public async Task DisposeAsync() => await _studio.DisposeAsync();

    private HttpClient Client => _studio.Client;

    [Fact]
    public async Task Report_BeforeAndAfterItIsWritten_404ThenMarkdownWithItsFiles()
    {
        var id = await _studio.RunToEndAsync("tiny-loop", new { rounds = 1 });
        var missing = await Client.GetAsync($"api/runs/{id}/report");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains($"posttrain report {id}", await missing.Content.ReadAsStringAsync());

        var dir = Path.Combine(_studio.Root, "home", "runs", id);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "report.md"), "# Quality report\n");
        File.WriteAllBytes(Path.Combine(dir, "rounds.png"), [0x89, 0x50, 0x4e, 0x47]);
        var report = (await Client.GetFromJsonAsync<JsonObject>($"api/runs/{id}/report"))!;
        Assert.Equal("# Quality report\n", report["markdown"]!.GetValue<string>());
        Assert.Equal(["report.md", "rounds.png"], report["files"]!.AsArray().Select(f => f!.GetValue<string>()));
        var png = await Client.GetAsync($"api/runs/{id}/report/rounds.png");
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"api/runs/{Guid.NewGuid()}/report")).StatusCode);
    }

    [Fact]
    public async Task Artifact_Checkpoint_ListsFilesLineageAndExportCommand()
    {
        var id = await _studio.RunToEndAsync("tiny-loop", new { rounds = 1 });
        var run = (await Client.GetFromJsonAsync<JsonObject>($"api/runs/{id}"))!;
        var best = run["outputs"]!["best"]!.GetValue<string>();
        var view = (await Client.GetFromJsonAsync<JsonObject>($"api/artifacts/{best}"))!;
        Assert.True(view["isDirectory"]!.GetValue<bool>());
        Assert.Equal(["value.txt"], view["files"]!.AsArray().Select(f => f!["name"]!.GetValue<string>()));
        Assert.Contains(view["lineage"]!.AsArray(), c => c!["parent"] is not null && c["runId"]!.GetValue<string>() == id);
        Assert.StartsWith($"posttrain export {best} --out DIR --home ", view["exportCommand"]!.GetValue<string>());
        var file = await Client.GetStringAsync($"api/artifacts/{best}/files/value.txt");
        Assert.Contains("rounds[0]/variants", file);
    }

    [Theory]
    [InlineData("api/artifacts/sha256:nothex")]
    [InlineData("api/artifacts/../posttrain.db")]
    public async Task Artifact_NotAReference_Returns400Or404(string url)
    {
        var response = await Client.GetAsync(url);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{url}: {response.StatusCode}");
    }

    [Fact]
    public async Task ArtifactFile_PathLeavingTheArtifact_IsRefused()
    {
        var id = await _studio.RunToEndAsync("tiny-loop", new { rounds = 1 });
        var run = (await Client.GetFromJsonAsync<JsonObject>($"api/runs/{id}"))!;
        var best = run["outputs"]!["best"]!.GetValue<string>();
        foreach (var name in new[] { "..%2F..%2F..%2Fposttrain.db", "%2E%2E/%2E%2E/%2E%2E/posttrain.id" })
        {
            var response = await Client.GetAsync($"api/artifacts/{best}/files/{name}");
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{name}: {response.StatusCode}");
            Assert.DoesNotContain("SQLite", await response.Content.ReadAsStringAsync());
        }
    }
}
