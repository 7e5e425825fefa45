using MassTransit;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Bus;

/// <summary>Hands worker events and control commands to the <see cref="WorkflowEngine"/>.</summary>
public sealed class EngineEventsConsumer(WorkflowEngine engine, RunLauncher launcher) :
    IConsumer<ActivityStarted>, IConsumer<ActivityProgress>, IConsumer<ActivityCompleted>, IConsumer<ActivityFaulted>,
    IConsumer<CancelRun>, IConsumer<RunRequested>
{
    public Task Consume(ConsumeContext<ActivityStarted> context) => engine.OnStartedAsync(context.Message);
    public Task Consume(ConsumeContext<ActivityProgress> context) => engine.OnProgressAsync(context.Message);
    public Task Consume(ConsumeContext<ActivityCompleted> context) => engine.OnCompletedAsync(context.Message);
    public Task Consume(ConsumeContext<ActivityFaulted> context) => engine.OnFaultedAsync(context.Message);
    public Task Consume(ConsumeContext<CancelRun> context) => engine.CancelAsync(context.Message.RunId, context.Message.Reason);
    public Task Consume(ConsumeContext<RunRequested> context) => launcher.StartAsync(context.Message);
}
