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
        if (OwnerClient.Find(home) is { } owner)
        {
            // A studio or host owns the database: it hands over the run's records; the report is built here, as below.
            await using (owner)
            {
                var snapshots = await owner.SnapshotsAsync();
                if (FindId(snapshots.Select(r => r.Id), home, runText, out var error) is not { } id) return Output.Error(error);
                var stored = await owner.RecordsAsync(id);
                if (string.IsNullOrWhiteSpace(ablationText)) return Write(stored.Run, stored.Steps, stored.Metrics, home, device, prompts, json);
                var otherHome = string.IsNullOrWhiteSpace(ablationHomeOption) ? home : PostTrainHome.Resolve(ablationHomeOption);
                AblationBuilder.RunData? data;
                if (otherHome.Root == home.Root)
                {
                    if (FindId(snapshots.Select(r => r.Id), home, ablationText, out var why) is not { } otherId) return Output.Error($"--ablation: {why}");
                    var other = await owner.RecordsAsync(otherId);
                    data = new AblationBuilder.RunData(other.Run, other.Steps, other.Metrics, new ArtifactStore(home.Root));
                }
                else
                {
                    var fromOther = await AblationRunAsync(otherHome, ablationText);
                    if (fromOther.Error is { } failed) return Output.Error(failed);
                    data = fromOther.Data;
                }
                return Write(stored.Run, stored.Steps, stored.Metrics, home, device, prompts, json, data);
            }
        }
        if (!File.Exists(home.DatabasePath)) return Output.Error($"{home.DatabasePath}: no PostTrain database here; pass --home");
        HomeLock ownership;
        try { ownership = HomeLock.Acquire(home, "report"); }
        catch (HomeLockedException e) { return Output.Error($"{e.Message}; run the report when it finishes (iterate writes one itself)"); }
        using (ownership)
        using (var store = new WorkflowStore(home, ownership))
        {
            if (Find(store, home, runText, out var error) is not { } record) return Output.Error(error);
            var steps = store.StepsOf(record.Id);
            var metrics = store.Metrics.Find(m => m.RunId == record.Id).ToList();
            if (string.IsNullOrWhiteSpace(ablationText)) return Write(record, steps, metrics, home, device, prompts, json);
            var otherHome = string.IsNullOrWhiteSpace(ablationHomeOption) ? home : PostTrainHome.Resolve(ablationHomeOption);
            if (otherHome.Root == home.Root)
            {
                if (Find(store, home, ablationText, out var why) is not { } other) return Output.Error($"--ablation: {why}");
                var data = new AblationBuilder.RunData(other, store.StepsOf(other.Id), store.Metrics.Find(m => m.RunId == other.Id).ToList(), new ArtifactStore(home.Root));
                return Write(record, steps, metrics, home, device, prompts, json, data);
            }
            var ablationData = await AblationRunAsync(otherHome, ablationText);
            return ablationData.Error is { } failed ? Output.Error(failed) : Write(record, steps, metrics, home, device, prompts, json, ablationData.Data);
        }
    }

    /// <summary>The --ablation run from another home, through its owner when one holds that home.</summary>
    private static async Task<(AblationBuilder.RunData? Data, string? Error)> AblationRunAsync(PostTrainHome otherHome, string ablationText)
    {
        if (OwnerClient.Find(otherHome) is { } owner)
        {
            await using (owner)
            {
                if (FindId((await owner.SnapshotsAsync()).Select(r => r.Id), otherHome, ablationText, out var why) is not { } otherId) return (null, $"--ablation: {why}");
                var stored = await owner.RecordsAsync(otherId);
                return (new AblationBuilder.RunData(stored.Run, stored.Steps, stored.Metrics, new ArtifactStore(otherHome.Root)), null);
            }
        }
        if (!File.Exists(otherHome.DatabasePath)) return (null, $"--ablation-home: {otherHome.DatabasePath}: no PostTrain database here");
        HomeLock otherOwnership;
        try { otherOwnership = HomeLock.Acquire(otherHome, "report"); }
        catch (HomeLockedException e) { return (null, $"--ablation-home: {e.Message}"); }
        using (otherOwnership)
        using (var otherStore = new WorkflowStore(otherHome, otherOwnership))
        {
            if (Find(otherStore, otherHome, ablationText, out var why) is not { } other) return (null, $"--ablation: {why}");
            return (new AblationBuilder.RunData(other, otherStore.StepsOf(other.Id), otherStore.Metrics.Find(m => m.RunId == other.Id).ToList(), new ArtifactStore(otherHome.Root)), null);
        }
    }

    private static RunRecord? Find(WorkflowStore store, PostTrainHome home, string runText, out string error) =>
        FindId(store.Runs.FindAll().Select(r => r.Id), home, runText, out error) is { } id ? store.Runs.FindById(id) : null;

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
