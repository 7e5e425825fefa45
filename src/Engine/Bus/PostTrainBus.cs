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
    public static IServiceCollection AddPostTrainBus(this IServiceCollection services, BusSettings settings, BusTopology topology, bool engine, WorkerOptions? worker, IReadOnlyList<TriggerRegistration>? triggers = null)
    {
        services.AddSingleton(topology);
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
                x.AddConsumer<StopDuplicateAttemptConsumer>();
            }
            if (settings.RabbitMq is { } uri)
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(uri);
                    Configure(context, cfg, topology, engine, worker, triggerConsumers);
                });
            else
                x.UsingInMemory((context, cfg) => Configure(context, cfg, topology, engine, worker, triggerConsumers));
        });
        services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return services;
    }

    private static void Configure(IBusRegistrationContext context, IBusFactoryConfigurator cfg, BusTopology topology, bool engine, WorkerOptions? worker, IReadOnlyList<Type> triggerConsumers)
    {
        // Events go to exchanges named after their message types: the deployment's prefix keeps fleets apart there too.
        cfg.MessageTopology.SetEntityNameFormatter(new PrefixEntityNameFormatter(cfg.MessageTopology.EntityNameFormatter, topology.ExchangePrefix));
        // A metric may be NaN or infinite (a loss before any step); a report carrying it must still reach the engine.
        cfg.ConfigureJsonSerializerOptions(o =>
        {
            o.NumberHandling |= System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            return o;
        });
        // A consumer that throws a transient error (I/O, the broker, the database busy) gets the message again with
        // backoff; a deterministic one (FailureClassifier) goes to the error queue at once.
        cfg.UseMessageRetry(r =>
        {
            r.Exponential(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2));
            r.Handle<Exception>(e => !FailureClassifier.IsDeterministic(e));
        });
        if (engine)
        {
            cfg.ReceiveEndpoint(topology.EngineQueue, e =>
            {
                // One at a time keeps worker reports in order; the engine serializes state changes anyway.
                e.ConcurrentMessageLimit = 1;
                e.ConfigureConsumer<EngineEventsConsumer>(context);
            });
            if (triggerConsumers.Count > 0)
                cfg.ReceiveEndpoint(topology.TriggerQueue, e =>
                {
                    foreach (var consumer in triggerConsumers) e.ConfigureConsumer(context, consumer);
                });
        }
        if (worker is null) return;
        foreach (var pool in worker.Pools)
            cfg.ReceiveEndpoint(topology.PoolQueue(pool), e =>
            {
                e.PrefetchCount = worker.ConcurrencyOf(pool);
                e.ConcurrentMessageLimit = worker.ConcurrencyOf(pool);
                e.ConfigureConsumer<ExecuteActivityConsumer>(context);
            });
        cfg.ReceiveEndpoint(new TemporaryEndpointDefinition(topology.WorkerQueue), e =>
        {
            e.ConfigureConsumer<RunCancelledConsumer>(context);
            e.ConfigureConsumer<StopDuplicateAttemptConsumer>(context);
        });
    }
}
