using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PostTrain.Studio.Api;
using PostTrain.Studio.Files;
using PostTrain.Studio.Hosting;
using PostTrain.Studio.Owner;
using PostTrain.Studio.Runs;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;

namespace PostTrain.Studio;

/// <summary>
/// PostTrain Studio: the designer and run monitor over the same engine, activity registry, validators, workflow
/// files and LiteDB home as the CLI. The process owns the home (it takes the home's lock, like <c>posttrain host</c>),
/// runs the engine and, by default, in-process workers.
/// </summary>
public sealed class StudioHost : IAsyncDisposable
{
    private StudioHost(WebApplication app, StudioAccess access, StudioOptions options)
    {
        App = app;
        Access = access;
        Options = options;
    }

    public WebApplication App { get; }
    public StudioAccess Access { get; }
    public StudioOptions Options { get; }

    /// <summary>The access token requests need, or null on loopback.</summary>
    public string? AccessToken => Access.Token;

    /// <summary>The addresses Kestrel bound (with real ports once started).</summary>
    public IReadOnlyList<string> Addresses =>
        [.. App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];

    /// <summary>Builds the studio; throws <see cref="HomeLockedException"/> if another process owns the home.</summary>
    public static StudioHost Create(StudioOptions options)
    {
        var urls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0) throw new ArgumentException("no URL to listen on; expected e.g. http://127.0.0.1:5080");
        var access = new StudioAccess(StudioAccess.ChooseToken(urls, options.AccessToken ?? Environment.GetEnvironmentVariable(StudioOptions.TokenEnvironmentVariable), options.RequireToken));

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(StudioHost).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls(urls);
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout is for results
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter<StepLogCapture>(null, LogLevel.Information);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOpenApi();

        var journal = new StepJournal();
        builder.Services.AddSingleton(journal);
        builder.Services.AddSingleton<ILoggerProvider>(new StepLogCapture(journal));
        builder.Services.AddSingleton(new WorkflowFiles(options.WorkflowsDirectory));
        builder.Services.AddSingleton(access);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<RunViews>();
        PostTrainHostFactory.Add(builder.Services, new PostTrainHostOptions
        {
            Home = options.Home,
            Bus = options.Bus,
            Engine = true,
            Worker = options.Worker,
            EngineOptions = options.EngineOptions,
            ActivityAssemblies = options.ActivityAssemblies,
            WorkflowDirectories = [Path.GetFullPath(options.WorkflowsDirectory)],
            Purpose = "studio",
        });

        var app = builder.Build();
        // Take the home's lock now, so a second owner fails before anything listens.
        _ = app.Services.GetRequiredService<WorkflowStore>();
        app.Services.GetRequiredService<IBus>().ConnectConsumeObserver(journal);

        app.Use(access.InvokeAsync);
        var web = new EmbeddedWebFiles();
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = web });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = web });
        app.UseRouting();
        app.MapOpenApi("/openapi");
        WorkflowEndpoints.Map(app, options);
        ActivityEndpoints.Map(app);
        ReferenceEndpoints.Map(app, options);
        RunEndpoints.Map(app);
        RunFileEndpoints.Map(app);
        app.MapFallback("/api/{**rest}", (string? rest) => Results.NotFound(new ErrorResponse($"no API endpoint /api/{rest}")));
        app.MapFallback(async context =>
        {
            var index = web.GetFileInfo("index.html");
            if (!index.Exists)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsync("the studio's front end is not in this build (src/Studio/web was not built)").ConfigureAwait(false);
                return;
            }
            context.Response.ContentType = "text/html; charset=utf-8";
            await using var s = index.CreateReadStream();
            await s.CopyToAsync(context.Response.Body).ConfigureAwait(false);
        });
        return new StudioHost(app, access, options);
    }

    /// <summary>The API other <c>posttrain</c> commands on this home use (HOME/owner.json), once started.</summary>
    public OwnerServer? Owner { get; private set; }

    /// <summary>Listens, then serves the owner's API to the other commands on this home.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await App.StartAsync(cancellationToken).ConfigureAwait(false);
        Owner = await OwnerServer.StartAsync(App.Services, "studio", Options.WorkflowsDirectory, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Owner is not null) await Owner.DisposeAsync().ConfigureAwait(false);
        Owner = null;
        try { await App.StopAsync().ConfigureAwait(false); }
        catch (ObjectDisposedException) { }
        await App.DisposeAsync().ConfigureAwait(false);
    }
}
