using MassTransit;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Bus;

/// <summary>Each worker process subscribes (on its own temporary queue) and stops the cancelled run's activities.</summary>
public sealed class RunCancelledConsumer(ActivityWorker worker) : IConsumer<RunCancelled>
{
    public Task Consume(ConsumeContext<RunCancelled> context)
    {
        worker.CancelRun(context.Message.RunId);
        return Task.CompletedTask;
    }
}
