using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Artifacts;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Studio.Owner;

namespace PostTrain.Cli;

/// <summary>Starts this process as the home's owner (engine, and a worker unless told otherwise) for run/resume/cancel/host.</summary>
public sealed class LocalHost : IAsyncDisposable
{
    // Runs this engine has advanced since it started, with their latest state: a run left Running by a dead process
    // and never resumed here is not among them.
    private readonly ConcurrentDictionary<Guid, RunState> _advanced = new();

    private LocalHost(IHost host, OwnerServer? server)
    {
        Host = host;
        Server = server;
        Engine.RunChanged += run => _advanced[run.Id] = run.State;
    }

    public IHost Host { get; }
    public WorkflowEngine Engine => Host.Services.GetRequiredService<WorkflowEngine>();
    public RunLauncher Launcher => Host.Services.GetRequiredService<RunLauncher>();
    /// <summary>The API other commands on this home use while this process owns it; null for a short-lived owner (cancel, data import).</summary>
    public OwnerServer? Server { get; }

    /// <summary>Where workers on other machines fetch and push artifacts; null on the in-memory bus.</summary>
    public Uri? ArtifactUrl => Host.Services.GetService<ArtifactServer>()?.Url;

    /// <summary>Throws <see cref="HomeLockedException"/> if another process owns the home.</summary>
    /// <remarks>With a shared broker the owner serves its artifacts (<paramref name="artifacts"/>, default any free port), so workers need no shared filesystem.</remarks>
    /// <param name="serve">Serve the owner's API (HOME/owner.json) so other commands on this home talk to this process.</param>
    public static async Task<LocalHost> StartAsync(PostTrainHome home, BusSettings bus, IReadOnlyList<string> workflowDirs, string purpose, bool worker = true, bool resumeOnStart = false, string device = "cpu", TimeSpan? heartbeatTimeout = null, bool serve = false, ArtifactServerOptions? artifacts = null)
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

    private static readonly TimeSpan ClientsQuiet = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A command that became the home's owner may have accepted runs from other commands meanwhile (a second
    /// <c>iterate</c> queued behind its own): it keeps serving until those end, so their clients are not left without
    /// an owner. <paramref name="cancellationToken"/> (Ctrl+C) stops waiting; the runs stay resumable.
    /// </summary>
    public async Task ServeRemainingAsync(CancellationToken cancellationToken)
    {
        if (Server is null) return;
        var told = false;
        DateTime? ended = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var active = _advanced.Where(r => r.Value is RunState.Running or RunState.Queued).Select(r => r.Key).ToList();
            if (active.Count == 0)
            {
                // Once those runs end, their clients still read the final state (and iterate its records for the report):
                // keep answering until they have gone quiet, at most half a minute.
                if (!told || Server.SinceLastRequest > ClientsQuiet || DateTime.UtcNow - ended > TimeSpan.FromSeconds(30)) return;
                ended ??= DateTime.UtcNow;
            }
            else if (!told)
            {
                Console.Error.WriteLine($"{active.Count} run(s) started by other commands still run on this home ({string.Join(", ", active)}); serving them until they end (Ctrl+C stops; they stay resumable)");
                told = true;
            }
            try { await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        try { await Host.StopAsync(TimeSpan.FromSeconds(15)); }
        finally { Host.Dispose(); }
    }
}
