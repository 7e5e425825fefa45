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

        // The per-round table: a header with a round column and one row per round (0 and 1).
        var lines = r.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("round", StringComparison.OrdinalIgnoreCase));
        foreach (var round in new[] { "0", "1" })
            Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^\W*{round}\W"));

        var reportDir = Path.Combine(home.Root, "runs", id);
        var report = Path.Combine(reportDir, "report.md");
        Assert.True(File.Exists(report), $"no {report}; files: {string.Join(", ", Directory.Exists(reportDir) ? Directory.GetFiles(reportDir) : [])}\n{r}");
        Assert.True(File.Exists(Path.Combine(reportDir, "rounds.png")), $"no rounds.png in {reportDir}");
        Assert.True(new FileInfo(Path.Combine(reportDir, "rounds.png")).Length > 0);
        var text = await File.ReadAllTextAsync(report);
        Assert.Contains(id, text);
    }
}
