using System.Text.Json;
using PostTrain.Cli.Tests.Support;

namespace PostTrain.Cli.Tests;

/// <summary>Issue 19: a truncated posttrain.db is refused with its path by every command, and doctor --repair rebuilds it.</summary>
public sealed class DoctorTests
{
    [Fact]
    public async Task TruncatedDatabase_RefusedWithPath_ThenRepairedFromSnapshots()
    {
        using var home = new TempHome("doctor");
        var run = await Posttrain.RunAsync(home.Root, "run", Posttrain.TestWorkflow("two-delays.json"), "--param", "seconds=0", "--home", home.Root, "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var runId = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("id").GetString()!;
        var db = Path.Combine(home.Root, "posttrain.db");
        using (var f = new FileStream(db, FileMode.Open)) f.SetLength(50);

        var resume = await Posttrain.RunAsync(home.Root, "resume", runId, "--home", home.Root);
        Assert.True(resume.ExitCode == 1, resume.ToString());
        Assert.Contains($"{db}: the database is damaged", resume.Stderr);
        Assert.Contains("posttrain doctor --repair", resume.Stderr);
        Assert.DoesNotContain("   at ", resume.Stderr); // no stack trace
        Assert.Equal(50, new FileInfo(db).Length);

        var check = await Posttrain.RunAsync(home.Root, "doctor", "--home", home.Root);
        Assert.True(check.ExitCode == 1, check.ToString());
        Assert.Contains(db, check.Stderr);

        var repair = await Posttrain.RunAsync(home.Root, "doctor", "--repair", "--home", home.Root, "--json");
        Assert.True(repair.ExitCode == 0, repair.ToString());
        var report = JsonDocument.Parse(repair.Stdout).RootElement;
        Assert.True(report.GetProperty("repaired").GetBoolean());
        Assert.Equal(1, report.GetProperty("runs").GetInt32());

        var again = await Posttrain.RunAsync(home.Root, "resume", runId, "--home", home.Root);
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    [Fact]
    public async Task Host_HeartbeatTimeoutOutOfRange_IsAUsageErrorNamingTheOption()
    {
        using var home = new TempHome("heartbeat");
        var r = await Posttrain.RunAsync(home.Root, "host", "--heartbeat-timeout", "1e300", "--home", home.Root);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--heartbeat-timeout: 1E+300 is not a number of seconds between 1 and 86400", r.Stderr);
    }
}
