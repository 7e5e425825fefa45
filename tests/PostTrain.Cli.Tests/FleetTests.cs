using System.Text.Json.Nodes;
using PostTrain.Cli.Tests.Support;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Cli.Tests;

/// <summary>
/// Machines that share only the broker (issue 19): real processes of the built CLI, each with a home of its own in a
/// separate temp directory. The owner (`iterate --bus … --no-worker` on home A) runs no activity; a gpu worker on home
/// B and a cpu worker on home C fetch their inputs from A's artifact port by hash and push their outputs back, so
/// the run finishes although nothing but the broker is shared.
/// </summary>
public sealed class FleetTests
{
    private static readonly TimeSpan Run = TimeSpan.FromMinutes(8);

    [RabbitMqFact]
    public async Task Iterate_OwnerAndWorkersOnSeparateHomes_FinishesWithEveryOutputInTheOwnersHome()
    {
        using var a = new TempHome("fleet-a");
        using var b = new TempHome("fleet-b");
        using var c = new TempHome("fleet-c");
        var deployment = "fleet" + Guid.NewGuid().ToString("N")[..10];
        using var gpu = await WorkerAsync(b, "gpu", Broker.Uri!, deployment);
        using var cpu = await WorkerAsync(c, "cpu", Broker.Uri!, deployment);

        var r = await Posttrain.RunAsync(a.Root, Run, Iterate(a, Broker.Uri!, deployment));
        Assert.True(r.ExitCode == 0, r + "\n--- gpu worker ---\n" + gpu.Stderr + "\n--- cpu worker ---\n" + cpu.Stderr);
        Assert.NotNull((string?)JsonNode.Parse(r.Stdout)!["finalCheckpoint"]);
        var run = Snapshots.TryReadOnly(a.Root)!;
        Assert.Equal("Succeeded", (string?)run["state"]);
        AssertOwnerHoldsEveryOutput(a, run);
        // The work ran where the pools are: training on B, data on C; the workers never had a database.
        Assert.Contains($":{gpu.Id}", (string?)Snapshots.Step(run, "pretrain")!["worker"]);
        Assert.Contains($":{cpu.Id}", (string?)Snapshots.Step(run, "tasks")!["worker"]);
        foreach (var w in new[] { b, c }) Assert.False(File.Exists(Path.Combine(w.Root, "posttrain.db")), $"{w.Root} has a database");
        // B fetched what it trained on (the task data made on C) through A.
        Assert.True(Directory.GetFileSystemEntries(Path.Combine(b.Root, "artifacts", "objects")).Length > 0);
    }

    /// <summary>
    /// The same run with the gpu worker SIGKILLed in the middle of pretraining and another started on a fresh home B2:
    /// the step is re-dispatched to it after the heartbeat timeout and fetches its inputs from A like the first did.
    /// </summary>
    [RabbitMqFact]
    public async Task Iterate_GpuWorkerKilledMidStepAndReplacedOnAnotherHome_Finishes()
    {
        var bus = Broker.Uri!;
        using var a = new TempHome("fleet-a");
        using var b = new TempHome("fleet-b");
        using var b2 = new TempHome("fleet-b2");
        using var c = new TempHome("fleet-c");
        var deployment = "fleet" + Guid.NewGuid().ToString("N")[..10];
        var gpu = await WorkerAsync(b, "gpu", bus, deployment);
        using var cpu = await WorkerAsync(c, "cpu", bus, deployment);
        using var iterate = Posttrain.Start(a.Root, Iterate(a, bus, deployment));
        ChildProcess? gpu2 = null;
        try
        {
            await Snapshots.WaitForAsync(a.Root, iterate, r => Snapshots.StateOf(r, "pretrain") == "Running" && Snapshots.ProgressOf(r, "pretrain") > 0, Run, "pretrain running");
            gpu.KillHard();
            gpu2 = await WorkerAsync(b2, "gpu", bus, deployment);


            var result = await iterate.WaitAsync(Run);
            Assert.True(result.ExitCode == 0, result + "\n--- gpu worker on B2 ---\n" + gpu2.Stderr + "\n--- cpu worker ---\n" + cpu.Stderr);
            var run = Snapshots.TryReadOnly(a.Root)!;
            Assert.Equal("Succeeded", (string?)run["state"]);
            var pretrain = Snapshots.Step(run, "pretrain")!;
            Assert.True(pretrain["attempt"]!.GetValue<int>() >= 2, pretrain.ToJsonString());
            Assert.Contains($":{gpu2.Id}", (string?)pretrain["worker"]);
            AssertOwnerHoldsEveryOutput(a, run);
            Assert.False(gpu2.HasExited, "the gpu worker on B2 died:\n" + gpu2.Stderr);
            Assert.False(cpu.HasExited, "the cpu worker died:\n" + cpu.Stderr);
        }
        finally
        {
            gpu.Dispose();
            gpu2?.Dispose();
        }
    }

    /// <summary>
    /// The same run on a broker node of the test's own (the shared one serves every other test): its application is
    /// stopped and started while the reward model trains, and again when SFT trains. Host and workers reconnect; a
    /// command the restart lost is sent again after the dispatch ack timeout, so the run finishes well within the
    /// 10-minute dispatch timeout that such a command used to wait for.
    /// </summary>
    [PrivateBrokerFact]
    public async Task Iterate_BrokerStoppedAndStartedMidRun_Finishes()
    {
        using var broker = PrivateBroker.Start(TimeSpan.FromMinutes(3));
        using var a = new TempHome("fleet-a");
        using var b = new TempHome("fleet-b");
        using var c = new TempHome("fleet-c");
        var deployment = "fleet" + Guid.NewGuid().ToString("N")[..10];
        using var gpu = await WorkerAsync(b, "gpu", broker.Uri, deployment);
        using var cpu = await WorkerAsync(c, "cpu", broker.Uri, deployment);
        using var iterate = Posttrain.Start(a.Root, Iterate(a, broker.Uri, deployment));

        foreach (var step in new[] { "rm", "rounds[0]/sft" })
        {
            // A short step may be over before a poll sees it running: then the restart comes a little later.
            var before = await Snapshots.WaitForAsync(a.Root, iterate, r => Snapshots.StateOf(r, step) is "Running" or "Done", Run, step + " running");
            Assert.True((string?)before["state"] == "Running" && !iterate.HasExited, $"the run ended before the broker restart at {step}");
            broker.StopApp();
            await Task.Delay(TimeSpan.FromSeconds(3));
            broker.StartApp();
        }

        var result = await iterate.WaitAsync(Run);
        Assert.True(result.ExitCode == 0, result + "\n--- gpu worker ---\n" + gpu.Stderr + "\n--- cpu worker ---\n" + cpu.Stderr);
        var run = Snapshots.TryReadOnly(a.Root)!;
        Assert.Equal("Succeeded", (string?)run["state"]);
        AssertOwnerHoldsEveryOutput(a, run);
        Assert.False(gpu.HasExited, "the gpu worker died:\n" + gpu.Stderr);
        Assert.False(cpu.HasExited, "the cpu worker died:\n" + cpu.Stderr);
    }

    private static string[] Iterate(TempHome home, string bus, string deployment) =>
        ["iterate", "--rounds", "1", "--preset", "tiny", "--bus", bus, "--home", home.Root, "--deployment", deployment,
         "--no-worker", "--artifact-host", "127.0.0.1", "--heartbeat-timeout", "9", "--report-prompts", "8", "--json"];

    private static async Task<ChildProcess> WorkerAsync(TempHome home, string pool, string bus, string deployment)
    {
        var worker = Posttrain.Start(home.Root, "worker", "--pool", pool, "--concurrency", "1", "--bus", bus, "--home", home.Root, "--deployment", deployment, "--heartbeat-timeout", "9");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!worker.Stdout.Contains("worker pid", StringComparison.Ordinal))
        {
            if (worker.HasExited || DateTime.UtcNow > deadline)
            {
                worker.Dispose();
                throw new Xunit.Sdk.XunitException($"worker on {home.Root} did not start:\n{worker.Stdout}\n{worker.Stderr}");
            }
            await Task.Delay(100);
        }
        return worker;
    }

    /// <summary>Every artifact a step produced is in A's own store: done means the owner holds the outputs.</summary>
    private static void AssertOwnerHoldsEveryOutput(TempHome owner, JsonObject run)
    {
        var objects = Path.Combine(owner.Root, "artifacts", "objects");
        foreach (var step in run["steps"]!.AsArray().OfType<JsonObject>())
            foreach (var reference in Engine.Store.ArtifactRefs.In(step["outputs"] ?? (step["outputsJson"] is JsonValue v ? JsonNode.Parse((string)v!) : null)))
                Assert.True(Path.Exists(Path.Combine(objects, reference["sha256:".Length..])), $"{step["path"]}: {reference} is not in {objects}");
    }
}
