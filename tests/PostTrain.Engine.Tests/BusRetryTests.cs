using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Triggers;

namespace PostTrain.Engine.Tests;

/// <summary>
/// MassTransit's own retry as <see cref="PostTrainBus"/> configures it for every receive endpoint (here the trigger
/// queue, on the in-memory bus): a consumer's transient error is retried by redelivery until it succeeds; a
/// deterministic one (FailureClassifier) faults at once. Without the bus's <c>UseMessageRetry</c>, the first test
/// sees a fault after one delivery; without its filter, the second sees six deliveries.
/// </summary>
public sealed class BusRetryTests
{
    public sealed record FlakyEvent(Guid Id, int TransientFailures, bool Deterministic);

    /// <summary>Fails the first <see cref="FlakyEvent.TransientFailures"/> deliveries with an I/O error, or every one with an ArgumentException.</summary>
    public sealed class FlakyConsumer : IConsumer<FlakyEvent>
    {
        public static readonly ConcurrentDictionary<Guid, ConcurrentQueue<int>> Deliveries = new();
        public static readonly ConcurrentDictionary<Guid, TaskCompletionSource<string>> Outcomes = new();

        public Task Consume(ConsumeContext<FlakyEvent> context)
        {
            var m = context.Message;
            var seen = Deliveries.GetOrAdd(m.Id, _ => new ConcurrentQueue<int>());
            seen.Enqueue(context.GetRetryAttempt());
            if (m.Deterministic) throw new ArgumentException("bad input: not retried");
            if (seen.Count <= m.TransientFailures) throw new IOException($"transient failure {seen.Count}");
            Outcomes[m.Id].TrySetResult("consumed");
            return Task.CompletedTask;
        }
    }

    /// <summary>The message that could not be consumed: MassTransit publishes its fault after the last retry.</summary>
    public sealed class FaultObserver : IConsumer<Fault<FlakyEvent>>
    {
        public Task Consume(ConsumeContext<Fault<FlakyEvent>> context)
        {
            if (FlakyConsumer.Outcomes.TryGetValue(context.Message.Message.Id, out var outcome))
                outcome.TrySetResult("faulted: " + string.Join("; ", context.Message.Exceptions.Select(e => e.Message)));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task TransientConsumerError_RetriedByRedelivery_UntilItSucceeds()
    {
        var (id, outcome) = await PublishAsync(transientFailures: 2, deterministic: false);
        Assert.Equal("consumed", outcome);
        // Three deliveries, the later two being MassTransit's retries of the same message.
        Assert.Equal([0, 1, 2], FlakyConsumer.Deliveries[id]);
    }

    [Fact]
    public async Task DeterministicConsumerError_FaultsAtOnce_WithoutRetries()
    {
        var (id, outcome) = await PublishAsync(transientFailures: 0, deterministic: true);
        Assert.Equal("faulted: bad input: not retried", outcome);
        Assert.Equal([0], FlakyConsumer.Deliveries[id]);
    }

    private static async Task<(Guid Id, string Outcome)> PublishAsync(int transientFailures, bool deterministic)
    {
        var services = new ServiceCollection().AddLogging();
        var triggers = new[]
        {
            new TriggerRegistration("Flaky", new Dictionary<string, string>(), typeof(FlakyConsumer)),
            new TriggerRegistration("FlakyFault", new Dictionary<string, string>(), typeof(FaultObserver)),
        };
        services.AddPostTrainBus(BusSettings.InMemory, new BusTopology("retry-test"), engine: true, worker: null, triggers);
        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync(CancellationToken.None);
        try
        {
            var id = Guid.NewGuid();
            var outcome = FlakyConsumer.Outcomes[id] = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            await bus.Publish(new FlakyEvent(id, transientFailures, deterministic), CancellationToken.None);
            // Generous: two retries wait about 4 s by the bus's schedule; a loaded machine may take longer.
            return (id, await outcome.Task.WaitAsync(TimeSpan.FromMinutes(2), CancellationToken.None));
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }
}
