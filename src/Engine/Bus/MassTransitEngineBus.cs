using MassTransit;
using PostTrain.Engine.Artifacts;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Bus;

/// <summary>
/// The engine's bus over MassTransit: commands go to the deployment's pool queue, events are published. With an
/// artifact server, each command says where the worker fetches its inputs and pushes its outputs. Every send and
/// publish gives up after <see cref="PublishDeadline.Limit"/>: the engine then sends the command again.
/// </summary>
public sealed class MassTransitEngineBus(IBus bus, BusTopology topology, ArtifactServer? artifacts = null) : IEngineBus
{
    public async Task SendAsync(ExecuteActivity command, CancellationToken cancellationToken = default)
    {
        if (artifacts?.Url is { } url) command = command with { ArtifactUrl = url.AbsoluteUri, ArtifactToken = artifacts.Token };
        using var timeout = PublishDeadline.Start(cancellationToken);
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{topology.PoolQueue(command.Pool)}")).ConfigureAwait(false);
        await endpoint.Send(command, timeout.Token).ConfigureAwait(false);
    }

    public async Task PublishAsync(object message, CancellationToken cancellationToken = default)
    {
        using var timeout = PublishDeadline.Start(cancellationToken);
        await bus.Publish(message, timeout.Token).ConfigureAwait(false);
    }
}
