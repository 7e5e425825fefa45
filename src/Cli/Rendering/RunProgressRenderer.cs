using System.Globalization;
using PostTrain.Cli.Owner;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Reports;
using Spectre.Console;

namespace PostTrain.Cli.Rendering;

/// <summary>
/// Shows a run while it goes: a Spectre.Console progress bar per step on a terminal, or one plain line per change
/// (state or a 10% step of progress) on stderr when output is redirected. With <c>rounds</c> it also shows "round x/N"
/// with an ETA and prints each round's row of the report (<see cref="ReportPrinter.LiveHeaders"/>) as the round ends.
/// Polls the run's owner (this process's engine or another's API) and returns the finished run's snapshot.
/// </summary>
public static class RunProgressRenderer
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>Follows the run on its owner, this process's engine or another process's API alike.</summary>
    public static async Task<RunSnapshot> FollowAsync(IHomeOwner owner, Guid runId, bool quiet, CancellationToken cancellationToken, int? rounds = null)
    {
        if (quiet)
        {
            while (true)
            {
                var snap = await owner.SnapshotAsync(runId);
                if (IsFinished(snap)) return snap;
                await Task.Delay(Poll, cancellationToken);
            }
        }
        var tracker = rounds is { } n ? new RoundTracker(owner, runId, n) : null;
        if (Output.Interactive) return await Bars(owner, runId, tracker, cancellationToken);
        return await Lines(owner, runId, tracker, cancellationToken);
    }

    private static bool IsFinished(RunSnapshot run) => run.State is RunState.Succeeded or RunState.Failed or RunState.Cancelled;

    private static async Task<RunSnapshot> Bars(IHomeOwner owner, Guid runId, RoundTracker? tracker, CancellationToken ct)
    {
        RunSnapshot? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var roundTask = tracker is null ? null : ctx.AddTask("rounds", maxValue: tracker.Total);
                var tasks = new Dictionary<string, ProgressTask>();
                while (true)
                {
                    var snap = await owner.SnapshotAsync(runId);
                    foreach (var s in snap.Steps)
                    {
                        if (!tasks.TryGetValue(s.Path, out var t)) tasks[s.Path] = t = ctx.AddTask(Output.Escape(s.Path), autoStart: false, maxValue: 100);
                        t.Description = $"{Output.Escape(s.Path)} [grey]{Output.Escape(s.ActivityType)}[/] {RunPrinter.StateMarkup(s.State.ToString())}{(s.Attempt > 1 ? $" (attempt {s.Attempt})" : "")}";
                        t.Value = s.State == StepState.Done ? 100 : s.Progress * 100;
                        // A step's clock runs from its start to its end, once: StopTask again would move its end.
                        if (!t.IsStarted && s.State is not (StepState.Pending or StepState.Dispatched)) t.StartTask();
                        if (t.IsStarted && t.StopTime is null && s.State is StepState.Done or StepState.Failed or StepState.Cancelled) t.StopTask();
                    }
                    if (tracker is not null && roundTask is not null)
                    {
                        foreach (var row in await tracker.UpdateAsync(snap)) AnsiConsole.MarkupLine(Output.Escape(RoundLine(row)));
                        roundTask.Description = Output.Escape(tracker.Describe());
                        roundTask.Value = tracker.Completed;
                        if (tracker.Completed >= tracker.Total && roundTask.StopTime is null) roundTask.StopTask();
                    }
                    if (IsFinished(snap) || ct.IsCancellationRequested) { result = snap; break; }
                    try { await Task.Delay(Poll, ct).ConfigureAwait(false); }
                    catch (OperationCanceledException) { }
                }
            });
        ct.ThrowIfCancellationRequested();
        return result!;
    }

    private static async Task<RunSnapshot> Lines(IHomeOwner owner, Guid runId, RoundTracker? tracker, CancellationToken ct)
    {
        var seen = new Dictionary<string, (StepState State, int Decile)>();
        var round = -1;
        var headerPrinted = false;
        while (true)
        {
            var snap = await owner.SnapshotAsync(runId);
            foreach (var s in snap.Steps)
            {
                var key = (s.State, (int)(s.Progress * 10));
                if (seen.TryGetValue(s.Path, out var old) && old == key) continue;
                seen[s.Path] = key;
                Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss} {s.Path} {s.ActivityType} {s.State}{(s.Attempt > 1 ? $" attempt {s.Attempt}" : "")} {RunPrinter.Percent(s.Progress)}" +
                    $"{(s.State is StepState.Done or StepState.Failed ? " " + RunPrinter.Elapsed(s.StartedAt, s.FinishedAt) : "")}{(s.Error is null ? "" : " " + s.Error)}");
            }
            if (tracker is not null)
            {
                foreach (var row in await tracker.UpdateAsync(snap))
                {
                    if (!headerPrinted) foreach (var line in TextTable.HeaderLines(ReportPrinter.LiveHeaders)) Console.Out.WriteLine(line);
                    headerPrinted = true;
                    Console.Out.WriteLine(TextTable.RowLine(ReportPrinter.LiveCells(row)));
                }
                if (tracker.Current != round && tracker.Current > 0) Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss} {tracker.Describe()}");
                round = tracker.Current;
            }
            ct.ThrowIfCancellationRequested();
            if (IsFinished(snap)) return snap;
            try { await Task.Delay(Poll, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
    }

    private static string RoundLine(RoundSummary r) =>
        string.Join(" · ", ReportPrinter.LiveHeaders.Zip(ReportPrinter.LiveCells(r)).Select(p => p.First == "round" ? p.Second : $"{p.First} {p.Second}"));

    /// <summary>Which round of N is running, when each ended, and the rows of the rounds that ended since the last look.</summary>
    private sealed class RoundTracker(IHomeOwner owner, Guid runId, int total)
    {
        private int _selectsDone;
        private int _printed;

        public int Total { get; } = total;
        public int Completed { get; private set; }
        /// <summary>The round in progress, 1-based; 0 before the first starts.</summary>
        public int Current { get; private set; }
        private TimeSpan? _eta;

        public async Task<IReadOnlyList<RoundSummary>> UpdateAsync(RunSnapshot snap)
        {
            var records = await owner.RoundsAsync(runId);
            var top = records.Select(r => r.Container).OrderBy(c => c.Length).FirstOrDefault();
            var mine = records.Where(r => r.Container == top).ToList();
            var done = mine.Where(r => r.Completed && r.FinishedAt is not null).ToList();
            Completed = done.Count;
            Current = Math.Min(Total, mine.Count == 0 ? 0 : Completed + (mine.Any(r => !r.Completed) ? 1 : 0));
            if (done.Count > 0)
            {
                var perRound = TimeSpan.FromTicks((long)done.Average(r => (r.FinishedAt!.Value - r.StartedAt).Ticks));
                var running = mine.FirstOrDefault(r => !r.Completed);
                var inCurrent = running is null ? TimeSpan.Zero : DateTime.UtcNow - running.StartedAt;
                var left = perRound * (Total - Completed) - inCurrent;
                _eta = left < TimeSpan.Zero ? TimeSpan.Zero : left;
            }
            var selects = snap.Steps.Count(s => s.ActivityType == "SelectBest" && s.State == StepState.Done);
            if (selects == _selectsDone) return [];
            _selectsDone = selects;
            var stored = await owner.RecordsAsync(runId);
            var rows = RunReportBuilder.Rounds(stored.Steps, stored.Metrics);
            var fresh = rows.Skip(_printed).ToList();
            _printed = rows.Count;
            return fresh;
        }

        public string Describe() => Completed >= Total
            ? $"round {Total}/{Total} done"
            : $"round {Math.Max(Current, 1)}/{Total}{(Current == 0 ? " (preparing: data, base, reward model)" : "")} · ETA {(_eta is { } e ? RunPrinter.Duration(e) : "after round 1")}";
    }
}
