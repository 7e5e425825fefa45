using MassTransit;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Bus;

/// <summary>The engine's bus over MassTransit: commands go to <c>queue:posttrain-pool-{pool}</c>, events are published.</summary>
public sealed class MassTransitEngineBus(IBus bus) : IEngineBus
{
    public async Task SendAsync(ExecuteActivity command, CancellationToken cancellationToken = default)
    {
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{BusTopology.PoolQueue(command.Pool)}")).ConfigureAwait(false);
        await endpoint.Send(command, cancellationToken).ConfigureAwait(false);
    }

    public Task PublishAsync(object message, CancellationToken cancellationToken = default) => bus.Publish(message, cancellationToken);
}
