using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Workflows.Engine;
using PostTrain.Workflows.Triggers;

namespace PostTrain.Workflows.Bus;

/// <summary>
/// The one place the bus is configured. The same endpoints are declared for both transports; only the
/// <c>Using...</c> call differs. The engine role consumes worker events and triggers; the worker role consumes
/// its pools' queues and, on a temporary queue of its own, run cancellations.
/// </summary>
public static class PostTrainBus
{
    public static IServiceCollection AddPostTrainBus(this IServiceCollection services, BusSettings settings, bool engine, WorkerOptions? worker)
    {
        services.AddMassTransit(x =>
        {
            // MassTransit phones home with usage telemetry by default; PostTrain runs offline and sends nothing out.
            x.DisableUsageTelemetry();
            if (engine)
            {
                x.AddConsumer<EngineEventsConsumer>();
                x.AddConsumer<PreferenceDataArrivedConsumer>();
                x.AddConsumer<PromptsArrivedConsumer>();
            }
            if (worker is not null)
            {
                x.AddConsumer<ExecuteActivityConsumer>();
                x.AddConsumer<RunCancelledConsumer>();
            }
            if (settings.RabbitMq is { } uri)
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(uri);
                    Endpoints(context, cfg, engine, worker);
                });
            else
                x.UsingInMemory((context, cfg) => Endpoints(context, cfg, engine, worker));
        });
        services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return services;
    }

    private static void Endpoints(IBusRegistrationContext context, IBusFactoryConfigurator cfg, bool engine, WorkerOptions? worker)
    {
        if (engine)
        {
            cfg.ReceiveEndpoint(BusTopology.EngineQueue, e =>
            {
                // One at a time keeps worker reports in order; the engine serializes state changes anyway.
                e.ConcurrentMessageLimit = 1;
                e.ConfigureConsumer<EngineEventsConsumer>(context);
            });
            cfg.ReceiveEndpoint(BusTopology.TriggerQueue, e =>
            {
                e.ConfigureConsumer<PreferenceDataArrivedConsumer>(context);
                e.ConfigureConsumer<PromptsArrivedConsumer>(context);
            });
        }
        if (worker is null) return;
        foreach (var pool in worker.Pools)
            cfg.ReceiveEndpoint(BusTopology.PoolQueue(pool), e =>
            {
                e.PrefetchCount = worker.ConcurrencyOf(pool);
                e.ConcurrentMessageLimit = worker.ConcurrencyOf(pool);
                e.ConfigureConsumer<ExecuteActivityConsumer>(context);
            });
        cfg.ReceiveEndpoint(new TemporaryEndpointDefinition("posttrain-worker"), e => e.ConfigureConsumer<RunCancelledConsumer>(context));
    }
}
