using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Engine.Tests;

/// <summary>Issue 19: a damaged database is refused (never recreated), repairable from snapshots; a lost lock stops writes; crash temps are swept.</summary>
public sealed class HomeIntegrityTests
{
    private const string Two = """
    {"id":"two","activities":[{"id":"a","type":"Add","inputs":{"x":1,"y":2}},{"id":"b","type":"Add","inputs":{"x":{"from":"a.sum"},"y":3}}],
     "outputs":{"sum":{"from":"b.sum"}}}
    """;

    private static async Task<Guid> FinishedRun(TestHome home)
    {
        await using var host = await EngineHost.StartAsync(home);
        var run = await host.RunAsync(home, Two);
        Assert.Equal(RunState.Succeeded, run.State);
        return run.Id;
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(50L)]
    [InlineData(12_000L)]
    [InlineData(-1L)] // half the file, cut at a page boundary
    public async Task Start_OnTruncatedDatabase_RefusesWithPathAndHint_AndChangesNothing(long length)
    {
        using var home = new TestHome();
        await FinishedRun(home);
        var db = new PostTrainHome(home.Root).DatabasePath;
        var cut = length >= 0 ? length : new FileInfo(db).Length / 2 / 8192 * 8192;
        using (var f = new FileStream(db, FileMode.Open)) f.SetLength(cut);

        var e = await Assert.ThrowsAsync<DamagedDatabaseException>(() => EngineHost.StartAsync(home));
        Assert.Contains(db, e.Message);
        Assert.Contains("posttrain doctor --repair", e.Message);
        Assert.Equal(cut, new FileInfo(db).Length);
    }

    [Fact]
    public async Task Repair_DamagedDatabase_SetsItAsideAndRebuildsRunsFromSnapshots()
    {
        using var home = new TestHome();
        var id = await FinishedRun(home);
        var ph = new PostTrainHome(home.Root);
        using (var f = new FileStream(ph.DatabasePath, FileMode.Open)) f.SetLength(8192);

        HistoryRebuild.Result result;
        using (var owner = HomeLock.Acquire(ph, "repair test")) result = HistoryRebuild.Repair(ph, owner);
        Assert.NotNull(result.SetAside);
        Assert.True(File.Exists(result.SetAside));
        Assert.Equal(1, result.Runs);
        Assert.Equal(2, result.Steps);

        await using var host = await EngineHost.StartAsync(home);
        var run = host.Engine.Snapshot(id);
        Assert.Equal(RunState.Succeeded, run.State);
        Assert.Equal(["a", "b"], run.Steps.Select(s => s.Path).Order());
        Assert.Contains("\"sum\":6", run.OutputsJson);
    }

    [Fact]
    public async Task Write_AfterTheLockFileWasDeleted_IsRefusedNotLost()
    {
        using var home = new TestHome();
        await using var host = await EngineHost.StartAsync(home);
        File.Delete(new PostTrainHome(home.Root).LockPath);
        var e = await Assert.ThrowsAsync<HomeLockedException>(() => host.StartRunAsync(home, Two));
        Assert.Contains("posttrain.lock was deleted", e.Message);
    }

    [Fact]
    public async Task Start_SweepsOldTempsOfDeadProcesses_KeepsLiveOnes()
    {
        using var home = new TestHome();
        var ph = new PostTrainHome(home.Root);
        const int dead = 99_999_999; // above any pid_max
        var staleFile = Path.Combine(ph.RunsDirectory, $".x.json.{dead}.{Guid.NewGuid():N}.tmp");
        var staleDir = Path.Combine(home.Root, "work", "r", $".checkpoint.{dead}.{Guid.NewGuid():N}.tmp");
        var live = Path.Combine(ph.CacheDirectory, $".k.json.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var fresh = Path.Combine(ph.CacheDirectory, $".f.json.{dead}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(staleFile, "{");
        Directory.CreateDirectory(staleDir);
        File.WriteAllText(Path.Combine(staleDir, "model.safetensors"), "partial");
        File.WriteAllText(live, "{");
        File.WriteAllText(fresh, "{");
        var old = DateTime.UtcNow.AddHours(-2);
        foreach (var f in new[] { staleFile, live }) File.SetLastWriteTimeUtc(f, old);
        Directory.SetLastWriteTimeUtc(staleDir, old);

        await using var host = await EngineHost.StartAsync(home);
        Assert.False(File.Exists(staleFile));
        Assert.False(Directory.Exists(staleDir));
        Assert.True(File.Exists(live));   // its writer still runs
        Assert.True(File.Exists(fresh));  // too recent: maybe another machine's live write
    }
}
