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
        var ablation = new Option<string?>("--ablation") { Description = "A run (id or unique prefix) that spent the same post-training work in fewer rounds: adds the ablation table (fresh held-out exact match per kind, McNemar p)" };
        var ablationHome = new Option<string?>("--ablation-home") { Description = "The home of the --ablation run; default the same home" };
        var device = CliOptions.Device("cpu | cuda");
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("report", "Write and show the quality report of a run: accuracy per round with confidence intervals, RM accuracy, win rates, Elo") { run, prompts, device, home, json, ablation, ablationHome };
        command.SetAction(p => ExecuteAsync(p.GetValue(run)!, p.GetValue(prompts), p.GetValue(device)!, p.GetValue(home), p.GetValue(json), p.GetValue(ablation), p.GetValue(ablationHome)));
        return command;
    }

    private static async Task<int> ExecuteAsync(string runText, int prompts, string device, string? homeOption, bool json, string? ablationText, string? ablationHomeOption)
    {
        var home = PostTrainHome.Resolve(homeOption);
        var (run, error) = await ReadAsync(home, runText, ablation: false);
        if (run is null) return Output.Error(error!);
        AblationBuilder.RunData? other = null;
        if (!string.IsNullOrWhiteSpace(ablationText))
        {
            var otherHome = string.IsNullOrWhiteSpace(ablationHomeOption) ? home : PostTrainHome.Resolve(ablationHomeOption);
            (other, error) = await ReadAsync(otherHome, ablationText, ablation: true);
            if (other is null) return Output.Error(error!);
        }
        return Write(run.Run, run.Steps, run.Metrics, home, device, prompts, json, other);
    }

    /// <summary>
    /// A run's records from its home: through the home's owner when a studio or host holds it (the report is still
    /// built here), else from the database under this command's own lock, released before the report is built.
    /// </summary>
    private static async Task<(AblationBuilder.RunData? Run, string? Error)> ReadAsync(PostTrainHome home, string runText, bool ablation)
    {
        string Prefixed(string why) => ablation ? $"--ablation: {why}" : why;
        if (OwnerClient.Find(home) is { } owner)
        {
            await using (owner)
            {
                if (FindId((await owner.SnapshotsAsync()).Select(r => r.Id), home, runText, out var why) is not { } id) return (null, Prefixed(why));
                var stored = await owner.RecordsAsync(id);
                return (new AblationBuilder.RunData(stored.Run, stored.Steps, stored.Metrics, new ArtifactStore(home.Root)), null);
            }
        }
        if (!File.Exists(home.DatabasePath))
            return (null, ablation ? $"--ablation-home: {home.DatabasePath}: no PostTrain database here" : $"{home.DatabasePath}: no PostTrain database here; pass --home");
        HomeLock ownership;
        try { ownership = HomeLock.Acquire(home, "report"); }
        catch (HomeLockedException e) { return (null, ablation ? $"--ablation-home: {e.Message}" : $"{e.Message}; run the report when it finishes (iterate writes one itself)"); }
        using (ownership)
        using (var store = new WorkflowStore(home, ownership))
        {
            if (FindId(store.Runs.FindAll().Select(r => r.Id), home, runText, out var why) is not { } id) return (null, Prefixed(why));
            return (new AblationBuilder.RunData(store.Runs.FindById(id), store.StepsOf(id), store.Metrics.Find(m => m.RunId == id).ToList(), new ArtifactStore(home.Root)), null);
        }
    }

    private static Guid? FindId(IEnumerable<Guid> runs, PostTrainHome home, string runText, out string error)
    {
        var matches = runs.Where(id => id.ToString("D").StartsWith(runText, StringComparison.OrdinalIgnoreCase)).ToList();
        error = matches.Count == 0 ? $"no run '{runText}' in {home.DatabasePath} (ids: posttrain runs --home {home.Root})" : $"run '{runText}': {matches.Count} runs match; give more of the id";
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>Builds, writes (HOME/runs/RUN/report.md and charts) and prints a run's report; shared with <c>iterate</c>.</summary>
    public static int Write(RunRecord run, IReadOnlyList<StepRecord> steps, IReadOnlyList<MetricRecord> metrics, PostTrainHome home,
        string device, int prompts, bool json, AblationBuilder.RunData? ablation = null)
    {
        QualityReport report;
        try
        {
            report = RunReportBuilder.Build(run, steps, metrics, new ArtifactStore(home.Root), device, prompts,
                json ? null : new Progress<string>(m => Console.Error.WriteLine(m)));
            if (ablation is not null)
                report = report with { Ablation = AblationBuilder.Build(new AblationBuilder.RunData(run, steps, metrics, new ArtifactStore(home.Root)), ablation, device, prompts,
                    json ? null : new Progress<string>(m => Console.Error.WriteLine(m))) };
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
