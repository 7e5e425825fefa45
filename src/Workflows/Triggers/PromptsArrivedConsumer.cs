using MassTransit;
using PostTrain.Workflows.Contracts;

namespace PostTrain.Workflows.Triggers;

/// <summary>Thin: hands the event to the <see cref="TriggerService"/>.</summary>
public sealed class PromptsArrivedConsumer(TriggerService triggers) : IConsumer<PromptsArrived>
{
    public Task Consume(ConsumeContext<PromptsArrived> context) => triggers.HandlePromptsAsync(context.Message);
}
