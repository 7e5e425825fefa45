using MassTransit;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Bus;

/// <summary>
/// Thin: hands the command to the <see cref="ActivityWorker"/>, which returns as soon as the work has started, so
/// the delivery is acknowledged quickly. With no free slot the command goes back to the end of its queue.
/// </summary>
public sealed class ExecuteActivityConsumer(ActivityWorker worker) : IConsumer<ExecuteActivity>
{
    public async Task Consume(ConsumeContext<ExecuteActivity> context)
    {
        if (await worker.AcceptAsync(context.Message, context.CancellationToken).ConfigureAwait(false)) return;
        using var timeout = PublishDeadline.Start(context.CancellationToken);
        var queue = await context.GetSendEndpoint(context.ReceiveContext.InputAddress).ConfigureAwait(false);
        await queue.Send(context.Message, timeout.Token).ConfigureAwait(false);
    }
}
