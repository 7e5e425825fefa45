using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Cli.Tests.Support;

namespace PostTrain.Cli.Tests;

/// <summary>
/// SIGKILL a real workflow (task data → tiny pretraining → annotation → reward model) at three points, resume it each
/// time with <c>posttrain resume</c>, and compare its outputs with an uninterrupted run of the same definition, parameters
/// and seed: the issue's durability requirement, end to end through the binary.
/// </summary>
public sealed class CrashResumeTests
{
    private static readonly TimeSpan Phase = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task Resume_KilledAtThreePoints_CompletesWithoutRedoingStepsAndMatchesUninterruptedRun()
    {
        using var clean = new TempHome("crash-ref");
        using var crashed = new TempHome("crash");
        var workflow = Posttrain.TestWorkflow("crash-chain.json");
        string[] runArgs = ["run", workflow, "--param", "steps=120", "--seed", "7", "--json"];

        // The reference runs alongside the crashing one: same definition, parameters and seed, never interrupted.
        using var reference = Posttrain.Start(clean.Root, runArgs);
        var kills = new List<(string Point, JsonObject Snapshot)>();

        // 1. After the first step completed, before pretraining wrote any periodic checkpoint (every 50 of 120 steps).
        using (var first = Posttrain.Start(crashed.Root, runArgs))
        {
            var at = await Snapshots.WaitForAsync(crashed.Root, first,
                r => Snapshots.StateOf(r, "tasks") == "Done" && Snapshots.StateOf(r, "pretrain") is "Running" or "Dispatched", Phase, "tasks done");
            first.KillHard();
            kills.Add(("after tasks", Snapshots.TryReadOnly(crashed.Root) ?? at));
        }
        var runId = (string)kills[0].Snapshot["id"]!;

        // 2. Mid-pretraining, past its first periodic checkpoint.
        using (var second = Posttrain.Start(crashed.Root, "resume", runId))
        {
            await Snapshots.WaitForAsync(crashed.Root, second,
                r => Snapshots.StateOf(r, "pretrain") == "Running" && Snapshots.ProgressOf(r, "pretrain") >= 0.6, Phase, "pretraining past 60 %");
            second.KillHard();
            kills.Add(("mid pretrain", Snapshots.TryReadOnly(crashed.Root)!));
        }
        Assert.Equal("Running", Snapshots.StateOf(kills[1].Snapshot, "pretrain"));
        // The killed pretraining left a periodic checkpoint with its exact training state: the resume continues from it.
        var pretrainWork = Path.Combine(crashed.Root, "work", "pretrain", Guid.Parse(runId).ToString("N"));
        Assert.True(Directory.Exists(pretrainWork) && Directory.EnumerateDirectories(pretrainWork, PostTrain.Pretrain.Pretrainer.TrainingStateDirName, SearchOption.AllDirectories).Any(),
            $"no periodic checkpoint (training_state) under {pretrainWork} at the mid-pretraining kill");

        // 3. Mid reward-model training (the last step), after annotation completed.
        string leftover;
        using (var third = Posttrain.Start(crashed.Root, "resume", runId))
        {
            await Snapshots.WaitForAsync(crashed.Root, third,
                r => Snapshots.StateOf(r, "annotate") == "Done" && Snapshots.StateOf(r, "rm") == "Running", Phase, "reward model running");
            third.KillHard();
            kills.Add(("mid reward model", Snapshots.TryReadOnly(crashed.Root)!));
            // What a kill in the middle of storing a checkpoint leaves (the window is too short to hit reliably):
            // the killed process's half-written staging directory. The next owner of the home must remove it.
            leftover = Path.Combine(crashed.Staging, $"{third.Id}-{Guid.NewGuid():N}-{Environment.MachineName}");
            Directory.CreateDirectory(leftover);
            await File.WriteAllBytesAsync(Path.Combine(leftover, "model.safetensors"), new byte[4096]);
        }
        Assert.Equal("Done", Snapshots.StateOf(kills[2].Snapshot, "pretrain"));
        Assert.NotEqual("Done", Snapshots.StateOf(kills[2].Snapshot, "rm"));

        // Finish it.
        var resumed = await Posttrain.RunAsync(crashed.Root, Phase, "resume", runId, "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var final = JsonNode.Parse(resumed.Stdout)!.AsObject();
        Assert.Equal("Succeeded", (string?)final["state"]);

        // No completed step was redone: its attempt, start and finish are those recorded before each kill.
        foreach (var (point, snapshot) in kills)
            foreach (var before in snapshot["steps"]!.AsArray().OfType<JsonObject>().Where(s => (string?)s["state"] == "Done"))
            {
                var after = Snapshots.Step(final, (string)before["path"]!)!;
                var what = $"step {before["path"]} done before the kill {point}";
                Assert.True((string?)after["state"] == "Done", what);
                Assert.True(before["attempt"]!.GetValue<int>() == after["attempt"]!.GetValue<int>(), $"{what}: attempt {before["attempt"]} -> {after["attempt"]}");
                Assert.True((string?)before["startedAt"] == (string?)after["startedAt"], $"{what}: startedAt {before["startedAt"]} -> {after["startedAt"]}");
                Assert.True((string?)before["finishedAt"] == (string?)after["finishedAt"], $"{what}: finishedAt {before["finishedAt"]} -> {after["finishedAt"]}");
            }
        Assert.Equal(1, Snapshots.Step(final, "tasks")!["attempt"]!.GetValue<int>());

        // Nothing half-written: the staging area is empty (the planted leftover too) and every output is a complete object.
        Assert.False(Directory.Exists(leftover), $"{leftover} survived the resume");
        Assert.Empty(Directory.Exists(crashed.Staging) ? Directory.EnumerateFileSystemEntries(crashed.Staging) : []);

        var expected = await reference.WaitAsync(Phase);
        Assert.True(expected.ExitCode == 0, expected.ToString());
        var uninterrupted = JsonNode.Parse(expected.Stdout)!.AsObject();
        var got = final["outputs"]!.AsObject();
        var want = uninterrupted["outputs"]!.AsObject();
        foreach (var key in new[] { "checkpoint", "preferences", "rewardModel" })
        {
            var hash = (string)got[key]!;
            Assert.StartsWith("sha256:", hash);
            Assert.True(hash == (string)want[key]!, $"output {key}: resumed {hash}, uninterrupted {want[key]}");
            Assert.True(Path.Exists(Path.Combine(crashed.Root, "artifacts", "objects", hash["sha256:".Length..])), $"{key} {hash} is not in the store");
        }
        Assert.Empty(Directory.Exists(clean.Staging) ? Directory.EnumerateFileSystemEntries(clean.Staging) : []);
    }
}
