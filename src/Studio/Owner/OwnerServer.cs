using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Studio.Api;
using PostTrain.Studio.Files;
using PostTrain.Studio.Hosting;
using PostTrain.Studio.Runs;
using PostTrain.Workflows.Reports;

namespace PostTrain.Studio.Owner;

/// <summary>
/// The API every owner of a home serves to the other <c>posttrain</c> commands on it: the studio's /api/runs
/// (<see cref="RunEndpoints"/>) plus <see cref="OwnerEndpoints"/>, on a random loopback port, every request with a
/// fresh token. Both go to <c>HOME/owner.json</c> (<see cref="OwnerFile"/>) once it listens and are removed when it
/// stops. The studio, <c>posttrain host</c> and an <c>iterate</c>/<c>run</c>/<c>resume</c> that hosts its own engine
/// start one over the engine they run, so a client sees the same API whichever process owns the home.
/// </summary>
public sealed class OwnerServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly PostTrainHome _home;
    private readonly StrongBox<long> _lastRequest;

    private OwnerServer(WebApplication app, PostTrainHome home, OwnerFile.Info info, StrongBox<long> lastRequest)
    {
        _app = app;
        _home = home;
        Info = info;
        _lastRequest = lastRequest;
    }

    public OwnerFile.Info Info { get; }

    /// <summary>Time since a client last called; an owner about to stop waits for its clients' last reads.</summary>
    public TimeSpan SinceLastRequest => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastRequest.Value));

    /// <param name="owner">The services of the process that runs the engine (engine, launcher, store, reports).</param>
    /// <param name="workflowsDirectory">Where POST /api/runs finds workflows by name.</param>
    public static async Task<OwnerServer> StartAsync(IServiceProvider owner, string purpose, string workflowsDirectory, CancellationToken cancellationToken = default)
    {
        var token = StudioAccess.ChooseToken([], configured: null, require: true)!;
        var home = owner.GetRequiredService<PostTrainHome>();
        var engine = owner.GetRequiredService<WorkflowEngine>();
        var store = owner.GetRequiredService<WorkflowStore>();
        var journal = owner.GetService<StepJournal>();
        if (journal is null)
        {
            journal = new StepJournal();
            owner.GetRequiredService<IBus>().ConnectConsumeObserver(journal);
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(OwnerServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.AddServerHeader = false);
        // Loopback only: the token keeps other users of this machine out; nothing off the machine can connect.
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddSingleton(home);
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(owner.GetRequiredService<RunLauncher>());
        builder.Services.AddSingleton(owner.GetRequiredService<ArtifactStore>());
        builder.Services.AddSingleton(owner.GetRequiredService<RunReportService>());
        builder.Services.AddSingleton(journal);
        builder.Services.AddSingleton(owner.GetService<WorkflowFiles>() ?? new WorkflowFiles(workflowsDirectory));
        builder.Services.AddSingleton(owner.GetService<RunViews>() ?? new RunViews(engine, store, journal));
        var access = new StudioAccess(token);

        var app = builder.Build();
        var lastRequest = new StrongBox<long>(Stopwatch.GetTimestamp());
        app.Use((context, next) =>
        {
            Volatile.Write(ref lastRequest.Value, Stopwatch.GetTimestamp());
            return next(context);
        });
        app.Use(access.InvokeAsync);
        app.UseRouting();
        RunEndpoints.Map(app);
        OwnerEndpoints.Map(app, purpose);
        app.MapFallback(() => Results.NotFound(new ErrorResponse("no such endpoint on the owner's API")));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var info = new OwnerFile.Info(Environment.ProcessId, url, token, purpose, Environment.MachineName, DateTime.UtcNow);
        OwnerFile.Write(home, info);
        owner.GetService<ILoggerFactory>()?.CreateLogger<OwnerServer>().LogInformation("owner API of {Home} on {Url}", home.Root, url);
        return new OwnerServer(app, home, info, lastRequest);
    }

    public async ValueTask DisposeAsync()
    {
        // The file first: a client that finds it must find a server behind it.
        OwnerFile.Remove(_home, Environment.ProcessId);
        try { await _app.StopAsync().ConfigureAwait(false); }
        catch (ObjectDisposedException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
