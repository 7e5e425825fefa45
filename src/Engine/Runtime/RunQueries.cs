using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>Reads of the engine's state for the CLI, the studio and reports, each under the engine's lock.</summary>
internal sealed class RunQueries(EngineState state, RunSnapshots snapshots)
{
    private WorkflowStore Store => state.Store;

    /// <summary>Completes when the run reaches Succeeded, Failed or Cancelled.</summary>
    public Task<RunSnapshot> WaitForRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        lock (state.Gate)
        {
            var run = Store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId}");
            if (run.IsFinished) return Task.FromResult(snapshots.Build(run));
            var tcs = new TaskCompletionSource<RunSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!state.Waiters.TryGetValue(runId, out var list)) state.Waiters[runId] = list = [];
            list.Add(tcs);
            cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
            return tcs.Task;
        }
    }

    public RunSnapshot Snapshot(Guid runId)
    {
        lock (state.Gate) return snapshots.Build(Store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId}"));
    }

    public IReadOnlyList<T> Read<T>(Func<WorkflowStore, IEnumerable<T>> query)
    {
        lock (state.Gate) return query(Store).ToList();
    }
}
