using System.CommandLine;
using PostTrain.Cli.Owner;
using PostTrain.Cli.Rendering;
using PostTrain.Workflows.Reports;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain report RUN</c>: the quality report of a finished run (Markdown + PNG charts in the run's folder).</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "Run id (or a unique prefix of one)" };
        var prompts = new Option<int>("--prompts") { Description = "Held-out prompts for the head-to-head Elo comparisons; 0 = all", DefaultValueFactory = _ => 0 };
        var device = CliOptions.Device("cpu | cuda");
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("report", "Write and show the quality report of a run: accuracy per round with confidence intervals, RM accuracy, win rates, Elo") { run, prompts, device, home, json };
        command.SetAction(p => ExecuteAsync(p.GetValue(run)!, p.GetValue(prompts), p.GetValue(device)!, p.GetValue(home), p.GetValue(json)));
        return command;
    }

    private static async Task<int> ExecuteAsync(string runText, int prompts, string device, string? homeOption, bool json)
    {
        var home = PostTrainHome.Resolve(homeOption);
        if (OwnerClient.Find(home) is { } owner)
        {
            // A studio or host owns the database: it hands over the run's records; the report is built here, as below.
            await using (owner)
            {
                var runs = await owner.SnapshotsAsync();
                var matches = runs.Where(r => r.Id.ToString("D").StartsWith(runText, StringComparison.OrdinalIgnoreCase)).ToList();
                if (matches.Count != 1) return NoSingleRun(runText, matches.Count, home);
                var stored = await owner.RecordsAsync(matches[0].Id);
                return Write(stored.Run, stored.Steps, stored.Metrics, home, device, prompts, json);
            }
        }
        if (!File.Exists(home.DatabasePath)) return Output.Error($"{home.DatabasePath}: no PostTrain database here; pass --home");
        HomeLock ownership;
        try { ownership = HomeLock.Acquire(home, "report"); }
        catch (HomeLockedException e) { return Output.Error($"{e.Message}; run the report when it finishes (iterate writes one itself)"); }
        using (ownership)
        using (var store = new WorkflowStore(home, ownership))
        {
            var matches = store.Runs.FindAll().Where(r => r.Id.ToString("D").StartsWith(runText, StringComparison.OrdinalIgnoreCase)).ToList();
            if (matches.Count != 1) return NoSingleRun(runText, matches.Count, home);
            var record = matches[0];
            return Write(record, store.StepsOf(record.Id), store.Metrics.Find(m => m.RunId == record.Id).ToList(), home, device, prompts, json);
        }
    }

    private static int NoSingleRun(string runText, int matches, PostTrainHome home) =>
        Output.Error(matches == 0 ? $"no run '{runText}' in {home.DatabasePath} (ids: posttrain runs --home {home.Root})" : $"run '{runText}': {matches} runs match; give more of the id");

    /// <summary>Builds, writes (HOME/runs/RUN/report.md and charts) and prints a run's report; shared with <c>iterate</c>.</summary>
    public static int Write(RunRecord run, IReadOnlyList<StepRecord> steps, IReadOnlyList<MetricRecord> metrics, PostTrainHome home,
        string device, int prompts, bool json)
    {
        QualityReport report;
        try
        {
            report = RunReportBuilder.Build(run, steps, metrics, new ArtifactStore(home.Root), device, prompts,
                json ? null : new Progress<string>(m => Console.Error.WriteLine(m)));
        }
        catch (InvalidOperationException e) { return Output.Error(e.Message); }
        var dir = Path.Combine(home.RunsDirectory, run.Id.ToString("D"));
        var path = QualityReportWriter.Write(report, dir);
        var rmElo = report.RmJudged.Count > 0 ? EloRating.Fit(report.RmJudged) : new Dictionary<string, double>();
        if (json) Output.WriteJson(new { runId = run.Id, finalCheckpoint = Workflows.Models.RunOutputs.FinalCheckpoint(run.OutputsJson), report, eloRm = rmElo, eloChecker = report.CheckerJudged.Count > 0 ? EloRating.Fit(report.CheckerJudged) : null, path });
        else ReportPrinter.Print(report, rmElo, path);
        return CliApp.Success;
    }
}
