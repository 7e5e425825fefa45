using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PostTrain.Engine.Runtime;

namespace PostTrain.Studio.Tests.Support;

/// <summary>A real studio on a random port with a fresh home and workflow directory (holding copies of Workflows/*.json), the test activities and fast engine timings.</summary>
public sealed class TestStudio : IAsyncDisposable
{
    public static readonly EngineOptions Fast = new()
    {
        TickInterval = TimeSpan.FromMilliseconds(50),
        HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        HeartbeatTimeout = TimeSpan.FromSeconds(5),
        Backoff = TimeSpan.FromMilliseconds(50),
    };

    private readonly bool _keepRoot;

    private TestStudio(StudioHost host, string root, HttpClient client, bool keepRoot)
    {
        Host = host;
        Root = root;
        Client = client;
        _keepRoot = keepRoot;
    }

    public StudioHost Host { get; }
    public string Root { get; }
    public string Workflows => Path.Combine(Root, "workflows");
    public HttpClient Client { get; }
    public Uri BaseAddress => Client.BaseAddress!;

    /// <param name="keepRoot">Leave the home and workflows on disk after disposal (the caller deletes <see cref="Root"/>).</param>
    public static async Task<TestStudio> StartAsync(string urls = "http://127.0.0.1:0", string? token = null, bool copyWorkflows = true, bool keepRoot = false)
    {
        var root = Path.Combine(Path.GetTempPath(), "posttrain-studio-tests", Guid.NewGuid().ToString("N"));
        var workflows = Path.Combine(root, "workflows");
        Directory.CreateDirectory(workflows);
        if (copyWorkflows)
            foreach (var f in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Workflows"), "*.json"))
                File.Copy(f, Path.Combine(workflows, Path.GetFileName(f)));
        var host = StudioHost.Create(new StudioOptions
        {
            Urls = urls,
            Home = Path.Combine(root, "home"),
            WorkflowsDirectory = workflows,
            AccessToken = token,
            EngineOptions = Fast,
            MaxRequestBodyBytes = 64 * 1024,
            ActivityAssemblies = [typeof(TestStudio).Assembly],
        });
        await host.StartAsync();
        // A wildcard binding answers on loopback too; talk to it there.
        var address = host.Addresses[0].Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "127.0.0.1");
        var client = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
        return new TestStudio(host, root, client, keepRoot);
    }

    public HttpClient AuthorizedClient(string token)
    {
        var c = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return c;
    }

    public string PathOf(string name) => Path.Combine(Workflows, name + ".json");

    /// <summary>Starts a run through the API and waits until it has finished; returns its id.</summary>
    public async Task<string> RunToEndAsync(string workflow, object? parameters = null)
    {
        var response = await Client.PostAsJsonAsync("api/runs", new { workflow, parameters });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var id = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        var events = await SseReader.ReadUntilAsync(Client, $"api/runs/{id}/events", (e, _) => e == "end", TimeSpan.FromSeconds(60));
        Assert.Equal("end", events[^1].Event);
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        if (_keepRoot) return;
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
