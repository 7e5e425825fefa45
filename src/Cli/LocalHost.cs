using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Artifacts;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;

namespace PostTrain.Cli;

/// <summary>Starts this process as the home's owner (engine, and a worker unless told otherwise) for run/resume/cancel/host.</summary>
public sealed class LocalHost : IAsyncDisposable
{
    private LocalHost(IHost host) => Host = host;

    public IHost Host { get; }
    public WorkflowEngine Engine => Host.Services.GetRequiredService<WorkflowEngine>();
    public RunLauncher Launcher => Host.Services.GetRequiredService<RunLauncher>();
    /// <summary>Where workers on other machines fetch and push artifacts; null on the in-memory bus.</summary>
    public Uri? ArtifactUrl => Host.Services.GetService<ArtifactServer>()?.Url;

    /// <summary>Throws <see cref="HomeLockedException"/> if another process owns the home.</summary>
    /// <remarks>With a shared broker the owner serves its artifacts (<paramref name="artifacts"/>, default any free port), so workers need no shared filesystem.</remarks>
    public static async Task<LocalHost> StartAsync(PostTrainHome home, BusSettings bus, IReadOnlyList<string> workflowDirs, string purpose, bool worker = true, bool resumeOnStart = false, string device = "cpu", TimeSpan? heartbeatTimeout = null, ArtifactServerOptions? artifacts = null)
    {
        var host = PostTrainHostFactory.Build(new PostTrainHostOptions
        {
            Home = home.Root,
            Bus = bus,
            Engine = true,
            Worker = worker ? new WorkerOptions { Device = device } : null,
            ResumeOnStart = resumeOnStart,
            ArtifactServer = bus.IsInMemory ? null : artifacts ?? new ArtifactServerOptions(),
            WorkflowDirectories = workflowDirs,
            Purpose = purpose,
            // With a shared broker, remote workers may still be running what was in flight; their heartbeats decide.
            EngineOptions = heartbeatTimeout is { } timeout
                ? new EngineOptions { RedispatchRunningOnStart = bus.IsInMemory, HeartbeatTimeout = timeout }
                : new EngineOptions { RedispatchRunningOnStart = bus.IsInMemory },
        });
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new LocalHost(host);
    }

    /// <summary>
    /// After Ctrl+C: marks the run interrupted (so status shows it is not running) and prints the command that continues it.
    /// </summary>
    public async Task<int> InterruptedAsync(Guid runId, PostTrainHome home)
    {
        await Engine.InterruptAsync(runId);
        Console.Error.WriteLine($"interrupted; run {runId} is marked Interrupted and keeps its finished steps. Continue it with:");
        Console.Error.WriteLine($"posttrain resume {runId} --home {home.Root}");
        return CliApp.Interrupted;
    }

    public async ValueTask DisposeAsync()
    {
        try { await Host.StopAsync(TimeSpan.FromSeconds(15)); }
        finally { Host.Dispose(); }
    }
}
