using MassTransit;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Bus;

/// <summary>Each worker process subscribes (on its own temporary queue); only the worker named stops its copy.</summary>
public sealed class StopDuplicateAttemptConsumer(ActivityWorker worker) : IConsumer<StopDuplicateAttempt>
{
    public Task Consume(ConsumeContext<StopDuplicateAttempt> context)
    {
        worker.StopDuplicate(context.Message);
        return Task.CompletedTask;
    }
}
