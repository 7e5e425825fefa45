using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Studio.Owner;

namespace PostTrain.Cli;

/// <summary>Starts this process as the home's owner (engine, and a worker unless told otherwise) for run/resume/cancel/host.</summary>
public sealed class LocalHost : IAsyncDisposable
{
    private LocalHost(IHost host, OwnerServer? server)
    {
        Host = host;
        Server = server;
    }

    public IHost Host { get; }
    public WorkflowEngine Engine => Host.Services.GetRequiredService<WorkflowEngine>();
    public RunLauncher Launcher => Host.Services.GetRequiredService<RunLauncher>();
    /// <summary>The API other commands on this home use while this process owns it; null for a short-lived owner (cancel, data import).</summary>
    public OwnerServer? Server { get; }

    /// <summary>Throws <see cref="HomeLockedException"/> if another process owns the home.</summary>
    /// <param name="serve">Serve the owner's API (HOME/owner.json) so other commands on this home talk to this process.</param>
    public static async Task<LocalHost> StartAsync(PostTrainHome home, BusSettings bus, IReadOnlyList<string> workflowDirs, string purpose, bool worker = true, bool resumeOnStart = false, string device = "cpu", TimeSpan? heartbeatTimeout = null, bool serve = false)
    {
        var host = PostTrainHostFactory.Build(new PostTrainHostOptions
        {
            Home = home.Root,
            Bus = bus,
            Engine = true,
            Worker = worker ? new WorkerOptions { Device = device } : null,
            ResumeOnStart = resumeOnStart,
            WorkflowDirectories = workflowDirs,
            Purpose = purpose,
            // With a shared broker, remote workers may still be running what was in flight; their heartbeats decide.
            EngineOptions = heartbeatTimeout is { } timeout
                ? new EngineOptions { RedispatchRunningOnStart = bus.IsInMemory, HeartbeatTimeout = timeout }
                : new EngineOptions { RedispatchRunningOnStart = bus.IsInMemory },
        });
        OwnerServer? server = null;
        try
        {
            await host.StartAsync();
            if (serve) server = await OwnerServer.StartAsync(host.Services, $"posttrain {purpose}", workflowDirs.LastOrDefault() ?? Path.Combine(home.Root, "workflows"));
        }
        catch
        {
            await host.StopAsync(TimeSpan.FromSeconds(15));
            host.Dispose();
            throw;
        }
        return new LocalHost(host, server);
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        try { await Host.StopAsync(TimeSpan.FromSeconds(15)); }
        finally { Host.Dispose(); }
    }
}
