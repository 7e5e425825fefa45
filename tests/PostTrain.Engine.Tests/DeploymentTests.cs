using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Engine.Tests;

/// <summary>Two homes on one broker: their queue and exchange names differ, so neither takes the other's work.</summary>
public sealed class DeploymentTests
{
    [Fact]
    public void Topology_DefaultsToTheHomesId_AndNamesCarryIt()
    {
        using var a = new TestHome();
        using var b = new TestHome();
        var ta = BusTopology.For(new PostTrainHome(a.Root), null);
        Assert.Equal(ta, BusTopology.For(new PostTrainHome(a.Root), null));
        Assert.NotEqual(ta.Deployment, BusTopology.For(new PostTrainHome(b.Root), null).Deployment);
        Assert.Equal($"posttrain-{ta.Deployment}-pool-gpu", ta.PoolQueue("gpu"));
        Assert.Equal("posttrain-fleet-1-engine", BusTopology.For(new PostTrainHome(b.Root), "fleet-1").EngineQueue);
        Assert.Throws<ArgumentException>(() => BusSettings.InMemory.WithDeployment("Bad Name"));
    }

    private static IHost Start(TestHome home, bool engine, string? deployment)
    {
        var host = EngineHostFactory.Build(new PostTrainHostOptions
        {
            Home = home.Root,
            Bus = BusSettings.Parse(Broker.Uri).WithDeployment(deployment),
            Engine = engine,
            Worker = engine ? null : new WorkerOptions { Pools = ["cpu"] },
            EngineOptions = EngineHost.Fast,
            ActivityAssemblies = [typeof(DeploymentTests).Assembly],
            WorkflowDirectories = [home.Workflows],
            Purpose = "deployment test",
        });
        host.Start();
        return host;
    }

    [RabbitMqFact]
    public async Task TwoHomesOnOneBroker_AWorkerOfTheOtherHome_NeverTakesTheStep()
    {
        using var a = new TestHome();
        using var b = new TestHome();
        using var c = new TestHome();
        using var owner = Start(a, engine: true, deployment: null);
        using var stranger = Start(b, engine: false, deployment: null);
        var engine = owner.Services.GetRequiredService<WorkflowEngine>();
        var path = a.WriteWorkflow("one", """{"id":"one","activities":[{"id":"add","type":"Add","inputs":{"x":2,"y":3}}],"outputs":{"sum":{"from":"add.sum"}}}""");
        var id = await owner.Services.GetRequiredService<RunLauncher>().StartAsync(path, new Dictionary<string, string>(), seed: 1);

        // Home B's worker serves its own deployment's cpu queue: home A's command waits for a worker of A.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var waiting = engine.Snapshot(id);
        Assert.Equal(RunState.Running, waiting.State);
        Assert.Equal(StepState.Dispatched, Assert.Single(waiting.Steps).State);

        // A worker on another home that names A's deployment takes it.
        using var joined = Start(c, engine: false, deployment: owner.Services.GetRequiredService<BusTopology>().Deployment);
        var done = await engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RunState.Succeeded, done.State);
        await joined.StopAsync();
        await stranger.StopAsync();
        await owner.StopAsync();
    }
}
