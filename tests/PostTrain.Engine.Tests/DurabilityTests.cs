using PostTrain.Engine.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Engine.Tests;

public sealed class DurabilityTests
{
    private const string Chain = """
    {"id":"chain","activities":[
      {"id":"s1","type":"Sleep","inputs":{"ms":20,"tag":"s1","value":1}},
      {"id":"s2","type":"Sleep","inputs":{"ms":20,"tag":"s2","value":{"from":"s1.value"}}},
      {"id":"s3","type":"Sleep","inputs":{"ms":1500,"tag":"s3","value":{"from":"s2.value"}}},
      {"id":"s4","type":"Sleep","inputs":{"ms":20,"tag":"s4","value":{"from":"s3.value"}}}],
     "outputs":{"value":{"from":"s4.value"}}}
    """;

    [Fact]
    public async Task Resume_AfterHostStoppedMidRun_DoesNotRedoCompletedSteps()
    {
        using var home = new TestHome();
        Guid id;
        await using (var first = await EngineHost.StartAsync(home))
        {
            id = await first.StartRunAsync(home, Chain);
            await first.WaitUntilAsync(id, s => s.Steps.Any(x => x.Path == "s3" && x.State == StepState.Running));
        } // stopped mid-s3: nothing is reported for s3, as if the process died
        Assert.Equal(["s1", "s2"], home.Executions());
        var snapshot = SnapshotReader.Find(home.Root is var r ? new PostTrainHome(r) : null!, id.ToString())!;
        Assert.Equal(RunState.Running, snapshot.State);

        await using var second = await EngineHost.StartAsync(home); // resumes running runs on start
        var run = await second.Engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal(["s1", "s2", "s3", "s4"], home.Executions());
        Assert.Equal(1, run.Steps.Single(s => s.Path == "s1").Attempt);
        Assert.Equal(1, run.Steps.Single(s => s.Path == "s2").Attempt);
        Assert.Equal(2, run.Steps.Single(s => s.Path == "s3").Attempt);
    }

    [Fact]
    public async Task Resume_FailedRun_RerunsOnlyUnfinishedSteps()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """
        {"id":"flaky","activities":[
          {"id":"a","type":"Sleep","inputs":{"ms":10,"tag":"a"}},
          {"id":"b","type":"FailNTimes","retry":{"maxAttempts":1},"inputs":{"failures":1,"value":{"from":"a.value"}}}]}
        """);
        Assert.Equal(RunState.Failed, run.State);
        await host.Engine.ResumeAsync(run.Id);
        var resumed = await host.Engine.WaitForRunAsync(run.Id).WaitAsync(TimeSpan.FromSeconds(10));
        // b's new step starts at attempt 1 again, so it fails once more: the failure is recorded, a is not redone.
        Assert.Equal(RunState.Failed, resumed.State);
        Assert.Equal(["a"], home.Executions());
    }

    [Fact]
    public async Task HomeLock_SecondWriter_RefusesWithOwner_WhileSnapshotsStayReadable()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """{"id":"one","activities":[{"id":"a","type":"Add","inputs":{"x":1}}]}""");

        var e = Assert.Throws<HomeLockedException>(() => EngineHostFactory.Build(new PostTrainHostOptions { Home = home.Root, Purpose = "second" }));
        Assert.Contains($"pid {Environment.ProcessId}", e.Message);
        Assert.Contains("only one process may write it", e.Message);
        Assert.True(HomeLock.IsHeld(new PostTrainHome(home.Root)));

        var listed = Assert.Single(SnapshotReader.List(new PostTrainHome(home.Root)));
        Assert.Equal(run.Id, listed.Id);
        Assert.Equal(RunState.Succeeded, listed.State);
    }

    [Fact]
    public async Task HomeLock_ReleasedOnStop_NextOwnerOpensStore()
    {
        using var home = new TestHome();
        await using (var first = await EngineHost.StartAsync(home))
            await first.RunAsync(home, """{"id":"one","activities":[{"id":"a","type":"Add","inputs":{"x":1}}]}""");
        Assert.False(HomeLock.IsHeld(new PostTrainHome(home.Root)));
        await using var second = await EngineHost.StartAsync(home);
        Assert.Single(second.Engine.Runs());
    }
}
