using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PostTrain.Cli.Tests.Support;
using PostTrain.Engine.Hosting;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Tests;

/// <summary>
/// One owner per home, many clients (issue 20; issue 19 item 2): while a studio or host owns a home, the other
/// commands talk to it through HOME/owner.json instead of failing on the lock; a stale owner.json left by a SIGKILL
/// is recognised and the next process becomes the owner.
/// </summary>
public sealed class OwnerTests
{
    private static readonly TimeSpan Start = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Iterate_WhileStudioOwnsHome_RunsThroughIt_StudioListsRunWithReport_AndRunsStatusReportWork()
    {
        using var home = new TempHome("owner-studio");
        using var studio = Posttrain.Start(home.Root, "studio", "--urls", "http://127.0.0.1:0", "--home", home.Root);
        var owner = await WaitForOwnerAsync(home.Root, studio);
        var url = Regex.Match(studio.Stdout, @"PostTrain Studio: (http://127\.0\.0\.1:\d+)/").Groups[1].Value;
        Assert.True(url.Length > 0, studio.Stdout);
        using var http = new HttpClient { BaseAddress = new Uri(url + "/") };

        // Started anywhere, the studio serves HOME/workflows with the shipped workflows in it.
        Assert.True(File.Exists(Path.Combine(home.Root, "workflows", "iterate.json")));
        Assert.Contains("iterate", (await http.GetStringAsync("api/workflows")));

        var iterate = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(20), "iterate", "--preset", "tiny", "--rounds", "1", "--home", home.Root);
        Assert.True(iterate.ExitCode == 0, iterate.ToString());
        Assert.Contains($"is owned by pid {owner.Pid} (studio)", iterate.Stderr);
        Assert.Contains("round 1/1", iterate.Stderr);
        Assert.Matches(@"(?m)^\| round 1 \|", iterate.Stdout);
        var id = Regex.Match(iterate.Stderr, @"run ([0-9a-f-]{36}) \(iterate").Groups[1].Value;
        Assert.True(id.Length > 0, iterate.ToString());
        Assert.True(File.Exists(Path.Combine(home.Root, "runs", id, "report.md")), $"no report.md for {id}\n{iterate}");

        // The studio lists the run the CLI started, finished.
        var listed = JsonNode.Parse(await http.GetStringAsync("api/runs"))!.AsArray();
        Assert.Contains(listed, r => (string?)r!["id"] == id && (string?)r["state"] == "succeeded");

        // runs, status and report against the owner: the same output as without one.
        var runs = await Posttrain.RunAsync(home.Root, "runs", "--home", home.Root);
        Assert.True(runs.ExitCode == 0, runs.ToString());
        Assert.Matches($@"(?m)^\| {id} \| iterate \| Succeeded \| ", runs.Stdout);
        var status = await Posttrain.RunAsync(home.Root, "status", id[..8], "--json", "--home", home.Root);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("Succeeded", (string?)JsonNode.Parse(status.Stdout)!["state"]);
        var report = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(10), "report", id, "--json", "--prompts", "20", "--home", home.Root);
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Equal(id, (string?)JsonNode.Parse(report.Stdout)!["runId"]);
        var missing = await Posttrain.RunAsync(home.Root, "report", "00000000-nosuch", "--home", home.Root);
        Assert.True(missing.ExitCode == 1 && missing.Stderr.Contains("no run '00000000-nosuch'"), missing.ToString());

        // A run started in the studio itself gets its report from the owner (same inputs and seed: every step is cached).
        var started = await http.PostAsJsonAsync("api/runs", new { workflow = "iterate", parameters = new { rounds = 1, preset = "tiny", preferences = Array.Empty<string>() }, seed = 0 });
        Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
        var studioRun = (string)JsonNode.Parse(await started.Content.ReadAsStringAsync())!["id"]!;
        var studioReport = Path.Combine(home.Root, "runs", studioRun, "report.md");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (!File.Exists(studioReport) && DateTime.UtcNow < deadline && !studio.HasExited) await Task.Delay(500);
        Assert.True(File.Exists(studioReport), $"the studio wrote no {studioReport}\n--- studio stderr ---\n{studio.Stderr}");
    }

    [Fact]
    public async Task Host_OwnsHome_RunCancelCtrlCResumeGoThroughIt_AndAfterSigkillTheNextProcessBecomesOwner()
    {
        using var home = new TempHome("owner-host");
        var workflow = Posttrain.TestWorkflow("two-delays.json");
        int firstPid;
        using (var host = Posttrain.Start(home.Root, "host", "--home", home.Root))
        {
            var owner = await WaitForOwnerAsync(home.Root, host);
            firstPid = owner.Pid;

            // run: followed to the end through the host, with the local path's JSON.
            var run = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(3), "run", workflow, "--param", "seconds=0", "--json", "--home", home.Root);
            Assert.True(run.ExitCode == 0, run.ToString());
            var final = JsonNode.Parse(run.Stdout)!.AsObject();
            Assert.Equal("Succeeded", (string?)final["state"]);
            Assert.IsType<JsonObject>(final["outputs"]);
            var runs = await Posttrain.RunAsync(home.Root, "runs", "--home", home.Root);
            Assert.Matches($@"(?m)^\| {(string)final["id"]!} \| two-delays \| Succeeded \| 3/3 \| ", runs.Stdout);

            // data import records its dataset through the owner instead of refusing the locked home.
            var import = await Posttrain.RunAsync(home.Root, "data", "import", Path.Combine(AppContext.BaseDirectory, "Fixtures", "gsm8k-style.jsonl"), "--kind", "prompts", "--name", "mine", "--json", "--home", home.Root);
            Assert.True(import.ExitCode == 0, import.ToString());
            Assert.StartsWith("sha256:", (string?)JsonNode.Parse(import.Stdout)!["artifact"]);

            // cancel: a client's run cancelled by another client; the first sees it end (exit 1).
            using (var client = Posttrain.Start(home.Root, "run", workflow, "--param", "seconds=60", "--home", home.Root))
            {
                var id = await WaitForRunningAsync(home.Root, client, exclude: [(string)final["id"]!]);
                var cancel = await Posttrain.RunAsync(home.Root, "cancel", id, "--home", home.Root);
                Assert.True(cancel.ExitCode == 0, cancel.ToString());
                Assert.Contains($"run {id} Cancelled", cancel.Stdout);
                var ended = await client.WaitAsync(TimeSpan.FromMinutes(1));
                Assert.True(ended.ExitCode == 1, ended.ToString());
            }

            // Ctrl+C on a client stops the run as it would locally: Interrupted, the resume command, exit 130; the host lives on.
            using (var client = Posttrain.Start(home.Root, "run", workflow, "--param", "seconds=6", "--home", home.Root))
            {
                var id = await WaitForRunningAsync(home.Root, client, exclude: [.. SnapshotIds(home.Root)]);
                using (var kill = Process.Start("kill", ["-INT", client.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
                var ended = await client.WaitAsync(TimeSpan.FromMinutes(1));
                Assert.True(ended.ExitCode == 130, ended.ToString());
                Assert.Contains($"posttrain resume {id} --home {home.Root}", ended.Stderr);
                var status = await Posttrain.RunAsync(home.Root, "status", id, "--json", "--home", home.Root);
                Assert.Equal("Interrupted", (string?)JsonNode.Parse(status.Stdout)!["state"]);
                Assert.False(host.HasExited, host.Stderr);

                var resumed = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(3), "resume", id, "--json", "--home", home.Root);
                Assert.True(resumed.ExitCode == 0, resumed.ToString());
                Assert.Equal("Succeeded", (string?)JsonNode.Parse(resumed.Stdout)!["state"]);
            }

            host.KillHard();
        }

        // SIGKILL left owner.json behind; nobody holds the lock, so it is stale: readers fall back, the next process owns the home.
        Assert.True(File.Exists(OwnerFile.PathOf(new PostTrainHome(home.Root))), "owner.json should survive a SIGKILL");
        var after = await Posttrain.RunAsync(home.Root, "runs", "--home", home.Root);
        Assert.True(after.ExitCode == 0, after.ToString());
        using var next = Posttrain.Start(home.Root, "host", "--home", home.Root);
        var second = await WaitForOwnerAsync(home.Root, next, notPid: firstPid);
        Assert.Equal(next.Id, second.Pid);
        var again = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(3), "run", workflow, "--param", "seconds=0", "--json", "--home", home.Root);
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    [Fact]
    public async Task Run_SecondCommandOnAHomeARunOwns_IsQueuedThroughIt_AndTheFirstServesItToTheEnd()
    {
        using var home = new TempHome("owner-cmd");
        var workflow = Posttrain.TestWorkflow("two-delays.json");
        using var first = Posttrain.Start(home.Root, "run", workflow, "--param", "seconds=4", "--json", "--home", home.Root);
        var owner = await WaitForOwnerAsync(home.Root, first);
        Assert.Equal(first.Id, owner.Pid);

        // Same workflow: queued behind the first run; its owner exits only after serving it to the end.
        var second = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(3), "run", workflow, "--param", "seconds=1", "--home", home.Root);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"owned by pid {first.Id} (posttrain run)", second.Stderr);
        Assert.Matches(@"(?m)^\| join \| Delay \| cpu \| Done", second.Stdout);

        var done = await first.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.Equal("Succeeded", (string?)JsonNode.Parse(done.Stdout)!["state"]);
        Assert.False(File.Exists(OwnerFile.PathOf(new PostTrainHome(home.Root))), "the owner removes owner.json when it stops");
    }

    [Fact]
    public void OwnerFile_OfADeadProcess_IsStaleAndRemoved()
    {
        using var dir = new TempHome("owner-stale");
        var home = new PostTrainHome(dir.Root);
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        OwnerFile.Write(home, new OwnerFile.Info(gone.Id, "http://127.0.0.1:1", "t", "posttrain host", Environment.MachineName, DateTime.UtcNow));
        Assert.Null(OwnerFile.Find(home));
        Assert.False(File.Exists(OwnerFile.PathOf(home)));

        // A live process that does not hold the home's lock is no owner either (a reused pid).
        OwnerFile.Write(home, new OwnerFile.Info(Environment.ProcessId, "http://127.0.0.1:1", "t", "posttrain host", Environment.MachineName, DateTime.UtcNow));
        Assert.Null(OwnerFile.Find(home));
        using (HomeLock.Acquire(home, "test"))
        {
            OwnerFile.Write(home, new OwnerFile.Info(Environment.ProcessId, "http://127.0.0.1:1", "t", "posttrain host", Environment.MachineName, DateTime.UtcNow));
            Assert.NotNull(OwnerFile.Find(home));
        }
    }

    private static async Task<OwnerFile.Info> WaitForOwnerAsync(string root, ChildProcess owner, int notPid = 0)
    {
        var home = new PostTrainHome(root);
        var deadline = DateTime.UtcNow + Start;
        while (DateTime.UtcNow < deadline)
        {
            if (OwnerFile.Find(home) is { } info && info.Pid != notPid) return info;
            if (owner.HasExited) throw new Xunit.Sdk.XunitException($"posttrain {owner.Description} exited before serving the home\n{owner.Stdout}\n{owner.Stderr}");
            await Task.Delay(200);
        }
        throw new TimeoutException($"no {OwnerFile.FileName} in {root} after {Start}\n{owner.Stdout}\n{owner.Stderr}");
    }

    private static IEnumerable<string> SnapshotIds(string root) =>
        Directory.Exists(Path.Combine(root, "runs")) ? Directory.GetFiles(Path.Combine(root, "runs"), "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>() : [];

    /// <summary>The id of the one new run whose first steps are running.</summary>
    private static async Task<string> WaitForRunningAsync(string root, ChildProcess client, IReadOnlyCollection<string> exclude)
    {
        var deadline = DateTime.UtcNow + Start;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var id in SnapshotIds(root).Except(exclude))
                if (Snapshots.TryRead(Path.Combine(root, "runs", id + ".json")) is { } run && Snapshots.StateOf(run, "left") == "Running") return id;
            if (client.HasExited) throw new Xunit.Sdk.XunitException($"posttrain {client.Description} exited early\n{client.Stdout}\n{client.Stderr}");
            await Task.Delay(200);
        }
        throw new TimeoutException($"no new running run in {root}\n{client.Stderr}");
    }
}
