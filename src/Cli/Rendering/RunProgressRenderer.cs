using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using Spectre.Console;

namespace PostTrain.Cli.Rendering;

/// <summary>
/// Shows a run while it goes: a Spectre.Console progress bar per step on a terminal, or one plain line per change
/// (state or a 10% step of progress) when output is redirected. Returns the finished run's snapshot.
/// </summary>
public static class RunProgressRenderer
{
    public static async Task<RunSnapshot> FollowAsync(WorkflowEngine engine, Guid runId, bool quiet, CancellationToken cancellationToken)
    {
        var finished = engine.WaitForRunAsync(runId, cancellationToken);
        if (quiet) return await finished;
        if (Output.Interactive) return await Bars(engine, runId, finished, cancellationToken);
        return await Lines(engine, runId, finished, cancellationToken);
    }

    private static async Task<RunSnapshot> Bars(WorkflowEngine engine, Guid runId, Task<RunSnapshot> finished, CancellationToken ct)
    {
        RunSnapshot? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                while (true)
                {
                    var snap = engine.Snapshot(runId);
                    foreach (var s in snap.Steps)
                    {
                        if (!tasks.TryGetValue(s.Path, out var t)) tasks[s.Path] = t = ctx.AddTask(Output.Escape(s.Path), maxValue: 100);
                        t.Description = $"{Output.Escape(s.Path)} [grey]{Output.Escape(s.ActivityType)}[/] {RunPrinter.StateMarkup(s.State.ToString())}{(s.Attempt > 1 ? $" (attempt {s.Attempt})" : "")}";
                        t.Value = s.State == StepState.Done ? 100 : s.Progress * 100;
                        if (s.State is StepState.Done or StepState.Failed or StepState.Cancelled) t.StopTask();
                    }
                    if (finished.IsCompleted || ct.IsCancellationRequested) { result = snap; break; }
                    await Task.WhenAny(finished, Task.Delay(250, ct)).ConfigureAwait(false);
                }
            });
        return finished.IsCompletedSuccessfully ? finished.Result : result!;
    }

    private static async Task<RunSnapshot> Lines(WorkflowEngine engine, Guid runId, Task<RunSnapshot> finished, CancellationToken ct)
    {
        var seen = new Dictionary<string, (StepState State, int Decile)>();
        while (true)
        {
            var snap = engine.Snapshot(runId);
            foreach (var s in snap.Steps)
            {
                var key = (s.State, (int)(s.Progress * 10));
                if (seen.TryGetValue(s.Path, out var old) && old == key) continue;
                seen[s.Path] = key;
                Console.Out.WriteLine($"{DateTime.Now:HH:mm:ss} {s.Path} {s.ActivityType} {s.State}{(s.Attempt > 1 ? $" attempt {s.Attempt}" : "")} {s.Progress:P0}{(s.Error is null ? "" : " " + s.Error)}");
            }
            if (finished.IsCompleted || ct.IsCancellationRequested) return finished.IsCompletedSuccessfully ? finished.Result : snap;
            try { await Task.WhenAny(finished, Task.Delay(250, ct)).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
    }
}
