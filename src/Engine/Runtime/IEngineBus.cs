using PostTrain.Engine.Contracts;

namespace PostTrain.Engine.Runtime;

/// <summary>How the engine talks to workers: send a command to a pool's queue, publish an event.</summary>
public interface IEngineBus
{
    Task SendAsync(ExecuteActivity command, CancellationToken cancellationToken = default);
    /// <summary>Publishes by the message's runtime type.</summary>
    Task PublishAsync(object message, CancellationToken cancellationToken = default);
}
