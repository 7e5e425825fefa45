using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Artifacts;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Hosting;

/// <summary>
/// Builds an engine process (engine and/or worker over one bus configuration) from what the application declares in
/// <see cref="PostTrainHostOptions"/>: its activity assemblies, trigger registrations and extra services.
/// </summary>
public static class EngineHostFactory
{
    /// <summary>
    /// Builds the host. With the engine role the home's lock is taken here, so a second writer fails fast with
    /// <see cref="HomeLockedException"/> before anything starts.
    /// </summary>
    public static IHost Build(PostTrainHostOptions options)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        // Logs are for people; stdout is for results (`--json` must parse), so every level goes to stderr.
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.Logging.AddFilter("MassTransit", options.MinimumLogLevel < LogLevel.Warning ? LogLevel.Warning : options.MinimumLogLevel);
        Add(builder.Services, options);
        var host = builder.Build();
        if (options.Engine) _ = host.Services.GetRequiredService<WorkflowStore>();
        return host;
    }

    public static IServiceCollection Add(IServiceCollection services, PostTrainHostOptions options)
    {
        var home = new PostTrainHome(options.Home);
        // A crash's temp files are swept when an owner or a worker starts (only this machine's dead processes', only old ones).
        if (options.Engine || options.Worker is not null) home.SweepTemporaryFiles();
        var registry = ActivityRegistry.Default([.. options.ActivityAssemblies]);
        foreach (var t in options.Triggers) registry.RegisterTrigger(t.Event, t.Payload);
        services.AddSingleton(options);
        services.AddSingleton(home);
        services.AddSingleton(new ArtifactStore(home.Root));
        services.AddSingleton(options.EngineOptions);
        services.AddSingleton(registry);
        services.AddSingleton(new WorkflowCatalog(options.WorkflowDirectories));
        services.AddSingleton(TimeProvider.System);
        services.AddPostTrainBus(options.Bus, BusTopology.For(home, options.Bus.Deployment), options.Engine, options.Worker, options.Triggers);
        if (options.Engine)
        {
            services.AddSingleton(sp => HomeLock.Acquire(sp.GetRequiredService<PostTrainHome>(), $"posttrain {options.Purpose}"));
            services.AddSingleton(sp => new WorkflowStore(sp.GetRequiredService<PostTrainHome>(), sp.GetRequiredService<HomeLock>()));
            if (options.ArtifactServer is { } served)
            {
                // Registered before the engine's hosted service, so the address is known before the first dispatch.
                services.AddSingleton(sp => new ArtifactServer(home, sp.GetRequiredService<ArtifactStore>(), served, sp.GetRequiredService<ILogger<ArtifactServer>>()));
                services.AddHostedService(sp => sp.GetRequiredService<ArtifactServer>());
            }
            services.AddSingleton<IEngineBus>(sp => new MassTransitEngineBus(sp.GetRequiredService<IBus>(), sp.GetRequiredService<BusTopology>(), sp.GetService<ArtifactServer>()));
            services.AddSingleton<WorkflowEngine>();
            services.AddSingleton<RunLauncher>();
            services.AddHostedService<EngineHostedService>();
        }
        if (options.Worker is { } worker)
        {
            services.AddSingleton(worker);
            services.AddSingleton(sp => new ActivityWorker(
                sp.GetRequiredService<ActivityRegistry>(), home, sp.GetRequiredService<ArtifactStore>(), sp.GetRequiredService<IBus>(),
                options.EngineOptions, worker, sp.GetRequiredService<ILoggerFactory>()));
            services.AddHostedService<WorkerHostedService>();
        }
        options.ConfigureServices?.Invoke(services);
        return services;
    }
}
