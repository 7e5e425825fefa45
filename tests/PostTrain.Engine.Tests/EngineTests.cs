using System.Text.Json.Nodes;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Engine.Tests;

public sealed class EngineTests
{
    private static JsonObject Outputs(RunSnapshot s) => JsonNode.Parse(s.OutputsJson!)!.AsObject();

    [Fact]
    public async Task Run_Sequence_PassesOutputsAlong()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """
        {"id":"seq","parameters":{"start":{"type":"number","default":2}},
         "activities":[
          {"id":"c","type":"Add","inputs":{"x":{"from":"b.sum"},"y":100}},
          {"id":"a","type":"Add","inputs":{"x":{"param":"start"},"y":3}},
          {"id":"b","type":"Add","inputs":{"x":{"from":"a.sum"},"y":10}}],
         "outputs":{"result":{"from":"c.sum"}}}
        """, new() { ["start"] = "5" });
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal(118, Outputs(run)["result"]!.GetValue<double>());
        Assert.All(run.Steps, s => Assert.Equal(StepState.Done, s.State));
        Assert.Equal(["a", "b", "c"], run.Steps.OrderBy(s => s.FinishedAt).Select(s => s.Path));
    }

    [Fact]
    public async Task Run_Repeat_EachRoundSeesThePreviousRound()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """
        {"id":"rep","parameters":{"rounds":{"type":"int","default":4,"min":1,"max":10}},
         "activities":[
          {"id":"init","type":"Add","inputs":{"x":1}},
          {"id":"loop","type":"repeat","count":{"param":"rounds"},
           "body":[{"id":"step","type":"Add","inputs":{"x":{"fromPrevious":"step.sum","initial":{"from":"init.sum"}},"y":{"var":"round"}}}],
           "outputs":{"last":{"from":"step.sum"}}}],
         "outputs":{"last":{"from":"loop.last"},"rounds":{"from":"loop.rounds"}}}
        """);
        Assert.Equal(RunState.Succeeded, run.State);
        // 1 + 0 + 1 + 2 + 3
        Assert.Equal(7, Outputs(run)["last"]!.GetValue<double>());
        Assert.Equal(4, Outputs(run)["rounds"]!.GetValue<int>());
        Assert.Equal(["loop[0]/step", "loop[1]/step", "loop[2]/step", "loop[3]/step"], run.Steps.Where(s => s.Path.StartsWith("loop")).Select(s => s.Path).Order());
        Assert.All(host.Engine.Rounds(run.Id), r => Assert.True(r.Completed));
        Assert.Equal(4, host.Engine.Rounds(run.Id).Count);
    }

    [Fact]
    public async Task Run_ParallelForEachWithJoinInsideRepeat_JoinsEveryRound()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """
        {"id":"fanjoin",
         "activities":[
          {"id":"rounds","type":"repeat","count":3,
           "body":[
             {"id":"fan","type":"forEach","items":[{"v":1},{"v":2},{"v":3}],
              "body":[
                {"id":"wait","type":"Sleep","inputs":{"ms":300,"value":{"var":"item.v"}}},
                {"id":"scale","type":"Add","inputs":{"x":{"from":"wait.value"},"y":{"fromPrevious":"join.total","initial":0}}}],
              "outputs":{"values":{"from":"scale.sum"},"started":{"from":"wait.started"},"ended":{"from":"wait.ended"}}},
             {"id":"join","type":"Sum","inputs":{"values":{"from":"fan.values"}}}],
           "outputs":{"total":{"from":"join.total"}}}],
         "outputs":{"total":{"from":"rounds.total"}}}
        """);
        Assert.Equal(RunState.Succeeded, run.State);
        // round 0: 1+2+3 = 6; round 1: (1+6)+(2+6)+(3+6) = 24; round 2: 6 + 3*24 = 78
        Assert.Equal(78, Outputs(run)["total"]!.GetValue<double>());
        Assert.Equal(3 * (3 * 2 + 1), run.Steps.Count);
        // The three sleeps of a round overlap: each started before any of them ended.
        var sleeps = run.Steps.Where(s => s.Path.StartsWith("rounds[1]/fan[") && s.ActivityType == "Sleep")
            .Select(s => JsonNode.Parse(s.OutputsJson!)!).ToList();
        Assert.Equal(3, sleeps.Count);
        Assert.True(sleeps.Max(s => s["started"]!.GetValue<long>()) < sleeps.Min(s => s["ended"]!.GetValue<long>()));
        Assert.Equal(3, host.Engine.Metrics(run.Id).Count(m => m.Name == "count"));
    }

    [Fact]
    public async Task Run_FailingStep_RetriesWithBackoffThenSucceeds()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """
        {"id":"retry","activities":[{"id":"flaky","type":"FailNTimes","retry":{"maxAttempts":3,"backoffSeconds":0.05},"inputs":{"failures":2,"value":5}}],
         "outputs":{"attempt":{"from":"flaky.attempt"}}}
        """);
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal(3, Outputs(run)["attempt"]!.GetValue<int>());
        var step = Assert.Single(run.Steps);
        Assert.Equal(3, step.Attempt);
        Assert.Equal(2, step.Failures);
    }

    [Fact]
    public async Task Run_StepFailingPastLimit_FailsRunWithError()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """
        {"id":"fail","activities":[
          {"id":"flaky","type":"FailNTimes","retry":{"maxAttempts":2,"backoffSeconds":0.05},"inputs":{"failures":5}},
          {"id":"after","type":"Add","inputs":{"x":{"from":"flaky.value"}}}]}
        """);
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("step 'flaky' (FailNTimes) failed after 2 attempt(s)", run.Error);
        Assert.Contains("planned failure 2 of 5", run.Error);
        var step = Assert.Single(run.Steps);
        Assert.Equal(StepState.Failed, step.State);
    }

    [Fact]
    public async Task Run_StepRejectsItsInputs_FailsWithoutRetrying()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, """{"id":"bad","activities":[{"id":"root","type":"Sqrt","retry":{"maxAttempts":5,"backoffSeconds":0.05},"inputs":{"x":-4}}]}""");
        Assert.Equal(RunState.Failed, run.State);
        Assert.Contains("not retried", run.Error);
        Assert.Contains("x must be >= 0", run.Error);
        Assert.Equal(1, Assert.Single(run.Steps).Attempt);
    }

    [Fact]
    public async Task Cancel_RunningRun_StopsItsSteps()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        var id = await host.StartRunAsync(home, """
        {"id":"long","activities":[{"id":"nap","type":"Sleep","inputs":{"ms":20000,"tag":"nap"}},{"id":"after","type":"Add","inputs":{"x":{"from":"nap.value"}}}]}
        """);
        await host.WaitUntilAsync(id, s => s.Steps.Any(x => x.State == StepState.Running));
        Assert.True(await host.Engine.CancelAsync(id));
        var run = await host.Engine.WaitForRunAsync(id).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(RunState.Cancelled, run.State);
        Assert.Equal(StepState.Cancelled, Assert.Single(run.Steps).State);
        await Task.Delay(300);
        Assert.Empty(home.Executions()); // the sleep was stopped, not finished
        Assert.False(await host.Engine.CancelAsync(id));
    }

    [Fact]
    public async Task Run_SameDefinitionParamsSeed_SameOutputs()
    {
        const string json = """
        {"id":"rng","activities":[{"id":"fan","type":"forEach","items":[1,2],"body":[{"id":"r","type":"Random","inputs":{"count":3}}],"outputs":{"n":{"from":"r.numbers"}}}],
         "outputs":{"n":{"from":"fan.n"}}}
        """;
        async Task<string> RunIn(long seed)
        {
            using var home = new TestHome();
            await using var host = await EngineHost.StartAsync(home);
            var run = await host.RunAsync(home, json, seed: seed);
            Assert.Equal(RunState.Succeeded, run.State);
            return run.OutputsJson!;
        }
        var a = await RunIn(11);
        var b = await RunIn(11);
        var c = await RunIn(12);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var n = JsonNode.Parse(a)!["n"]!.AsArray();
        Assert.NotEqual(n[0]!.ToJsonString(), n[1]!.ToJsonString()); // parallel iterations draw distinct streams
    }

    [Fact]
    public async Task Run_SecondRunSameInputs_FindsFinishedWork()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        const string json = """{"id":"cached","activities":[{"id":"s","type":"Sleep","inputs":{"ms":10,"tag":"s"}},{"id":"w","type":"WriteFile","inputs":{"text":"hello"}}]}""";
        var first = await host.RunAsync(home, json);
        var second = await host.RunAsync(home, json);
        Assert.Equal(RunState.Succeeded, second.State);
        Assert.All(first.Steps, s => Assert.False(s.FromCache));
        Assert.All(second.Steps, s => Assert.True(s.FromCache));
        Assert.Equal(["s"], home.Executions());
        var reused = Assert.Single(host.Engine.Metrics(second.Id), m => m.Name == "chars");
        Assert.Equal(("w", 5.0), (reused.StepPath, reused.Value));
        var checkpoint = Assert.Single(host.Engine.Checkpoints());
        Assert.Equal(first.Id, checkpoint.RunId);
        Assert.Equal("test", checkpoint.Kind);
    }

    [Fact]
    public async Task Start_SameWorkflowWhileRunning_QueuesBehindIt()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        const string json = """{"id":"q","parameters":{"tag":{"type":"string","default":"x"}},"activities":[{"id":"s","type":"Sleep","inputs":{"ms":400,"tag":{"param":"tag"}}}]}""";
        var first = await host.StartRunAsync(home, json, new() { ["tag"] = "first" });
        var second = await host.StartRunAsync(home, json, new() { ["tag"] = "second" });
        Assert.Equal(RunState.Queued, host.Engine.Snapshot(second).State);
        var b = await host.Engine.WaitForRunAsync(second).WaitAsync(TimeSpan.FromSeconds(20));
        var a = await host.Engine.WaitForRunAsync(first).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(RunState.Succeeded, a.State);
        Assert.Equal(RunState.Succeeded, b.State);
        Assert.True(a.FinishedAt <= b.StartedAt);
        Assert.Equal(["first", "second"], home.Executions());
        // The worker that ran a step is stored with it, so a run monitor started later can still show it.
        Assert.All(host.Engine.Steps(first), s => Assert.Equal($"{Environment.MachineName}:{Environment.ProcessId}", s.Worker));
    }
}
