using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Engine.Tests;

public sealed class LostWorkerTests
{
    [Fact]
    public async Task Tick_WorkerStopsHeartbeating_StepRedispatchedThenRunFails()
    {
        using var home = new TestHome();
        // Engine only: the "worker" below takes the command, says it started, and then dies silently.
        using var host = EngineHostFactory.Build(new PostTrainHostOptions
        {
            Home = home.Root,
            Worker = null,
            EngineOptions = EngineHost.Fast with { HeartbeatTimeout = TimeSpan.FromMilliseconds(400) },
            ActivityAssemblies = [typeof(LostWorkerTests).Assembly],
            WorkflowDirectories = [home.Workflows],
        });
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<IBus>();
        var attempts = new ConcurrentQueue<int>();
        var handle = bus.ConnectReceiveEndpoint(host.Services.GetRequiredService<BusTopology>().PoolQueue("cpu"), e => e.Handler<ExecuteActivity>(async ctx =>
        {
            attempts.Enqueue(ctx.Message.Attempt);
            await ctx.Publish(new ActivityStarted { RunId = ctx.Message.RunId, StepPath = ctx.Message.StepPath, Attempt = ctx.Message.Attempt, Worker = "doomed", At = DateTime.UtcNow });
        }));
        await handle.Ready;

        var path = home.WriteWorkflow("lost", """{"id":"lost","activities":[{"id":"a","type":"Add","retry":{"maxAttempts":2,"backoffSeconds":0.05},"inputs":{"x":1}}]}""");
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var id = await host.Services.GetRequiredService<RunLauncher>().StartAsync(path, new Dictionary<string, string>(), 1);
        var run = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("lost: no heartbeat", run.Error);
        // A slow acknowledgement (a loaded machine) may make the engine send a copy of an attempt; a worker drops copies.
        Assert.Equal([1, 2], attempts.Distinct().ToArray());
        await handle.StopAsync();
        await host.StopAsync();
    }
}
