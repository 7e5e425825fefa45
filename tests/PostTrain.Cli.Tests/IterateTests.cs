using PostTrain.Cli.Tests.Support;

namespace PostTrain.Cli.Tests;

/// <summary><c>posttrain iterate</c> end to end on the tiny preset: the whole Llama 3 loop, the table and the report.</summary>
public sealed class IterateTests
{
    [Fact]
    public async Task Iterate_TwoRoundsTinyPreset_PrintsRoundTableAndWritesReport()
    {
        using var home = new TempHome("iterate");
        var r = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(15), "iterate", "--rounds", "2", "--preset", "tiny", "--home", home.Root);
        Assert.True(r.ExitCode == 0, r.ToString());

        var run = Snapshots.TryReadOnly(home.Root);
        Assert.NotNull(run);
        Assert.Equal("Succeeded", (string?)run["state"]);
        var id = (string)run["id"]!;

        // Not a terminal: Markdown tables, one row per line. Each round's row is printed as the round ends, then the
        // report's table (with the base row) at the end.
        Assert.Matches(@"(?m)^\| round \| held-out exact match \[95% CI\] \|", r.Stdout);
        Assert.Matches(@"(?m)^\| base \| \d+\.\d% \[\d+\.\d%, \d+\.\d%\] \(\d+/\d+\) \|", r.Stdout);
        foreach (var round in new[] { 1, 2 })
            Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(r.Stdout, $@"(?m)^\| round {round} \|").Count);
        Assert.DoesNotMatch(@"(?m)^\| round 3 \|", r.Stdout);
        Assert.True(r.Stdout.IndexOf("| round 1 |", StringComparison.Ordinal) < r.Stdout.IndexOf($"**run {id}", StringComparison.Ordinal), r.ToString());
        // Progress (stderr): "round x/N" with an ETA once a round has taken its time; steps with their own clocks.
        Assert.Contains("round 1/2", r.Stderr);
        Assert.Matches(@"round 2/2 · ETA \d+:\d\d", r.Stderr);
        Assert.Contains("report:" + Path.Combine(home.Root, "runs", id, "report.md"), System.Text.RegularExpressions.Regex.Replace(r.Stdout, @"\s", ""));

        var reportDir = Path.Combine(home.Root, "runs", id);
        var report = Path.Combine(reportDir, "report.md");
        Assert.True(File.Exists(report), $"no {report}; files: {string.Join(", ", Directory.Exists(reportDir) ? Directory.GetFiles(reportDir) : [])}\n{r}");
        Assert.True(File.Exists(Path.Combine(reportDir, "rounds.png")), $"no rounds.png in {reportDir}");
        var png = await File.ReadAllBytesAsync(Path.Combine(reportDir, "rounds.png"));
        Assert.True(png.Length > 8 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "rounds.png is not a PNG");
        var text = await File.ReadAllTextAsync(report);
        Assert.Contains(id, text);
    }
}
