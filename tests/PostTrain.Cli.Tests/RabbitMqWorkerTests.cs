using System.Text.Json.Nodes;
using PostTrain.Cli.Tests.Support;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Cli.Tests;

/// <summary>
/// Across processes over a real RabbitMQ: a host owning the home (no local worker), two workers on the cpu pool sharing
/// the home's artifacts but never its database, a run submitted by <c>posttrain run --bus</c>, and one worker SIGKILLed
/// in the middle of an activity. The engine must notice the missing heartbeats and re-dispatch the lost step.
/// </summary>
public sealed class RabbitMqWorkerTests
{
    [RabbitMqFact]
    public async Task Run_WorkerKilledMidActivity_StepRedispatchedAndRunSucceeds()
    {
        using var home = new TempHome("rabbit");
        var vhost = Broker.CreateVhost();
        var bus = Broker.Uri! + (vhost is null ? "" : "/" + vhost);
        var children = new List<ChildProcess>();
        try
        {
            var host = Posttrain.Start(home.Root, "host", "--no-worker", "--bus", bus, "--home", home.Root);
            children.Add(host);
            await WaitForLineAsync(host, "owns", TimeSpan.FromMinutes(2));
            var workers = new[]
            {
                Posttrain.Start(home.Root, "worker", "--pool", "cpu", "--concurrency", "1", "--bus", bus, "--home", home.Root),
                Posttrain.Start(home.Root, "worker", "--pool", "cpu", "--concurrency", "1", "--bus", bus, "--home", home.Root),
            };
            children.AddRange(workers);
            foreach (var w in workers) await WaitForLineAsync(w, "worker pid", TimeSpan.FromMinutes(2));

            // Workers never open the database: the host keeps the single-writer lock throughout.
            Assert.Contains($"{host.Id}", await File.ReadAllTextAsync(Path.Combine(home.Root, "posttrain.lock.json")));

            var submit = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(2), "run", Posttrain.TestWorkflow("two-delays.json"),
                "--param", "seconds=20", "--bus", bus, "--home", home.Root, "--json");
            Assert.True(submit.ExitCode == 0, submit.ToString());
            var runId = (string)JsonNode.Parse(submit.Stdout)!["runId"]!;
            Assert.True((bool)JsonNode.Parse(submit.Stdout)!["submitted"]!);

            // Both parallel waits running at once, one slot per worker: each worker is in the middle of one.
            var running = await Snapshots.WaitForAsync(home.Root, host,
                r => Snapshots.StateOf(r, "left") == "Running" && Snapshots.StateOf(r, "right") == "Running", TimeSpan.FromMinutes(2), "both waits running");
            Assert.Equal(runId, (string?)running["id"]);
            // Mid-activity, the workers have not opened the database (only the host has).
            foreach (var w in workers) Assert.DoesNotContain(OpenFiles(w.Id), f => f.EndsWith("posttrain.db", StringComparison.Ordinal));
            if (OperatingSystem.IsLinux()) Assert.Contains(OpenFiles(host.Id), f => f.EndsWith("posttrain.db", StringComparison.Ordinal));
            var victim = workers[0];
            var survivor = workers[1];
            var victimName = $"{Environment.MachineName}:{victim.Id}";
            var survivorName = $"{Environment.MachineName}:{survivor.Id}";
            var lost = new[] { "left", "right" }.Single(s => WorkerOf(running, s) == victimName);
            var kept = lost == "left" ? "right" : "left";
            Assert.Equal(survivorName, WorkerOf(running, kept));
            victim.KillHard();
            Assert.True(victim.HasExited);

            // The lost step runs again on the survivor and the run completes: the engine re-dispatches it as attempt 2
            // once its heartbeats have been missing for 60 s. (On a loaded machine the engine may also have re-sent
            // attempt 1, its ActivityStarted having come later than the 20 s acknowledgement wait. Before
            // StopDuplicateAttempt the survivor ran that copy to the end as soon as its slot freed: attempts [1, 1].
            // Now the engine stops such a copy, and what this test asks is that the survivor ran the lost step.)
            var done = await Snapshots.WaitForAsync(home.Root, host,
                r => (string?)r["state"] is "Succeeded" or "Failed" or "Cancelled", TimeSpan.FromMinutes(5), "run finished");
            Assert.True((string?)done["state"] == "Succeeded", done.ToJsonString());
            Assert.True(WorkerOf(done, lost) == survivorName, $"the killed worker's step '{lost}' did not run again on the survivor: {done.ToJsonString()}");
            Assert.True(Snapshots.Step(done, kept)!["attempt"]!.GetValue<int>() == 1, $"the survivor's step '{kept}' ran again: {done.ToJsonString()}");
            Assert.Equal(survivorName, WorkerOf(done, kept));
            Assert.Equal("\"left\"", JsonNode.Parse((string)done["outputsJson"]!)!["value"]!.ToJsonString());
            Assert.False(workers[1].HasExited, "the surviving worker died:\n" + workers[1].Stderr);

            var status = await Posttrain.RunAsync(home.Root, "status", runId, "--json", "--home", home.Root);
            Assert.True(status.ExitCode == 0, status.ToString());
            Assert.Equal("Succeeded", (string?)JsonNode.Parse(status.Stdout)!["state"]);
        }
        finally
        {
            foreach (var c in children) c.Dispose();
            if (vhost is not null) Broker.DeleteVhost(vhost);
        }
    }

    private static string? WorkerOf(JsonObject run, string step) => (string?)Snapshots.Step(run, step)?["worker"];

    /// <summary>Files a process has open (Linux /proc; empty elsewhere).</summary>
    private static List<string> OpenFiles(int pid)
    {
        var dir = $"/proc/{pid}/fd";
        var files = new List<string>();
        if (!Directory.Exists(dir)) return files;
        foreach (var fd in Directory.EnumerateFileSystemEntries(dir))
            try { if (new FileInfo(fd).LinkTarget is { } target) files.Add(target); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        return files;
    }

    private static async Task WaitForLineAsync(ChildProcess child, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!child.Stdout.Contains(text, StringComparison.Ordinal))
        {
            if (child.HasExited) throw new Xunit.Sdk.XunitException($"posttrain {child.Description} exited:\n{child.Stdout}\n{child.Stderr}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"posttrain {child.Description} did not print '{text}' in {timeout}:\n{child.Stdout}\n{child.Stderr}");
            await Task.Delay(100);
        }
    }
}
