using MassTransit;
using PostTrain.Workflows.Contracts;

namespace PostTrain.Workflows.Triggers;

/// <summary>Thin: hands the event to the <see cref="TriggerService"/>.</summary>
public sealed class PreferenceDataArrivedConsumer(TriggerService triggers) : IConsumer<PreferenceDataArrived>
{
    public Task Consume(ConsumeContext<PreferenceDataArrived> context) => triggers.HandleAsync(context.Message);
}
