using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Triggers;

namespace PostTrain.Engine.Bus;

/// <summary>
/// The one place the bus is configured. The same endpoints are declared for both transports; only the
/// <c>Using...</c> call differs. The engine role consumes worker events and triggers; the worker role consumes
/// its pools' queues and, on a temporary queue of its own, run cancellations.
/// </summary>
public static class PostTrainBus
{
    public static IServiceCollection AddPostTrainBus(this IServiceCollection services, BusSettings settings, bool engine, WorkerOptions? worker, IReadOnlyList<TriggerRegistration>? triggers = null)
    {
        var triggerConsumers = engine ? (triggers ?? []).Select(t => t.Consumer).Distinct().ToList() : [];
        services.AddMassTransit(x =>
        {
            // MassTransit phones home with usage telemetry by default; PostTrain runs offline and sends nothing out.
            x.DisableUsageTelemetry();
            if (engine)
            {
                x.AddConsumer<EngineEventsConsumer>();
                foreach (var consumer in triggerConsumers) x.AddConsumer(consumer);
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
                    Endpoints(context, cfg, engine, worker, triggerConsumers);
                });
            else
                x.UsingInMemory((context, cfg) => Endpoints(context, cfg, engine, worker, triggerConsumers));
        });
        services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return services;
    }

    private static void Endpoints(IBusRegistrationContext context, IBusFactoryConfigurator cfg, bool engine, WorkerOptions? worker, IReadOnlyList<Type> triggerConsumers)
    {
        if (engine)
        {
            cfg.ReceiveEndpoint(BusTopology.EngineQueue, e =>
            {
                // One at a time keeps worker reports in order; the engine serializes state changes anyway.
                e.ConcurrentMessageLimit = 1;
                e.ConfigureConsumer<EngineEventsConsumer>(context);
            });
            if (triggerConsumers.Count > 0)
                cfg.ReceiveEndpoint(BusTopology.TriggerQueue, e =>
                {
                    foreach (var consumer in triggerConsumers) e.ConfigureConsumer(context, consumer);
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
