using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Tests.Support;

/// <summary>An engine + worker process on the in-memory bus, with the test activities and fast timings.</summary>
public sealed class EngineHost : IAsyncDisposable
{
    public static readonly EngineOptions Fast = new()
    {
        TickInterval = TimeSpan.FromMilliseconds(50),
        HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        HeartbeatTimeout = TimeSpan.FromSeconds(3),
        DispatchAckTimeout = TimeSpan.FromSeconds(1),
        Backoff = TimeSpan.FromMilliseconds(50),
    };

    private EngineHost(IHost host) => Host = host;

    public IHost Host { get; }
    public WorkflowEngine Engine => Host.Services.GetRequiredService<WorkflowEngine>();
    public RunLauncher Launcher => Host.Services.GetRequiredService<RunLauncher>();

    /// <param name="build">Builds the host from the options: the engine's own factory unless an application adds to it.</param>
    public static async Task<EngineHost> StartAsync(TestHome home, EngineOptions? options = null, Func<PostTrainHostOptions, IHost>? build = null)
    {
        var host = (build ?? EngineHostFactory.Build)(new PostTrainHostOptions
        {
            Home = home.Root,
            EngineOptions = options ?? Fast,
            Worker = new WorkerOptions { Concurrency = new Dictionary<string, int> { ["cpu"] = 8, ["gpu"] = 2 } },
            ActivityAssemblies = [typeof(EngineHost).Assembly],
            WorkflowDirectories = [home.Workflows],
            Purpose = "test",
        });
        await host.StartAsync();
        return new EngineHost(host);
    }

    /// <summary>Starts a run of <paramref name="json"/> and waits (at most 30 s) for it to finish.</summary>
    public async Task<RunSnapshot> RunAsync(TestHome home, string json, Dictionary<string, string>? parameters = null, long seed = 7)
    {
        var id = await StartRunAsync(home, json, parameters, seed);
        return await Engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(30));
    }

    public Task<Guid> StartRunAsync(TestHome home, string json, Dictionary<string, string>? parameters = null, long seed = 7)
    {
        var id = JsonNode.Parse(json)!["id"]!.GetValue<string>();
        var path = home.WriteWorkflow(id, json);
        return Launcher.StartAsync(path, parameters ?? [], seed);
    }

    /// <summary>Polls until <paramref name="condition"/> holds for the run's snapshot.</summary>
    public async Task<RunSnapshot> WaitUntilAsync(Guid run, Func<RunSnapshot, bool> condition, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var s = Engine.Snapshot(run);
            if (condition(s)) return s;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {run} never reached the condition; state {s.State}, steps: {string.Join(", ", s.Steps.Select(x => $"{x.Path}={x.State}"))}");
            await Task.Delay(25);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(TimeSpan.FromSeconds(10));
        Host.Dispose();
    }
}
