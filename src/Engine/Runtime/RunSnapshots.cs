using System.Text.Json;
using PostTrain.Core.Files;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// Run snapshots: built from the store, written atomically to <c>HOME/runs/&lt;id&gt;.json</c> for readers in other
/// processes, and handed to <c>RunChanged</c> and the waiters of a finished run. Called under the engine's lock.
/// </summary>
internal sealed class RunSnapshots(EngineState state)
{
    /// <summary>Writes the run's snapshot file and queues it for listeners (and waiters, if the run has finished).</summary>
    public void Capture(Guid runId, Outbox outbox)
    {
        var run = state.Store.Runs.FindById(runId);
        if (run is null) return;
        var snap = Build(run);
        AtomicFile.WriteAllText(state.Store.Home.SnapshotPath(runId), JsonSerializer.Serialize(snap, SnapshotReader.Json));
        state.LastSnapshot[runId] = state.Now;
        outbox.Changed.Add((snap, ++state.SnapshotSequence));
        if (run.IsFinished && state.Waiters.Remove(runId, out var list))
            foreach (var tcs in list) outbox.Finished.Add((tcs, snap));
    }

    public RunSnapshot Build(RunRecord run) => new()
    {
        Id = run.Id,
        WorkflowId = run.WorkflowId,
        WorkflowVersion = run.WorkflowVersion,
        Source = run.DefinitionSource,
        State = run.State,
        Error = run.Error,
        ParametersJson = run.ParametersJson,
        OutputsJson = run.OutputsJson,
        Seed = run.Seed,
        Trigger = run.Trigger,
        CreatedAt = run.CreatedAt,
        StartedAt = run.StartedAt,
        FinishedAt = run.FinishedAt,
        UpdatedAt = state.Now,
        Steps = [.. state.Store.StepsOf(run.Id).OrderBy(s => s.CreatedAt).ThenBy(s => s.Path, StringComparer.Ordinal).Select(s => new StepSnapshot
        {
            Path = s.Path,
            ActivityType = s.ActivityType,
            Pool = s.Pool,
            State = s.State,
            Attempt = s.Attempt,
            Failures = s.Failures,
            FromCache = s.FromCache,
            Progress = s.State == StepState.Done ? 1 : state.Progress.TryGetValue(s.Id, out var p) ? p.Fraction : 0,
            Message = state.Progress.TryGetValue(s.Id, out var pm) ? pm.Message : "",
            Error = s.Error,
            OutputsJson = s.OutputsJson,
            StartedAt = s.StartedAt,
            FinishedAt = s.FinishedAt,
            Worker = s.Worker,
        })],
    };
}
