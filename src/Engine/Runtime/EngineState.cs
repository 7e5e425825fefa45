using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// What the parts of the engine share: the store, the one lock that serializes every state change (LiteDB
/// transactions are per thread), and the in-memory bookkeeping that is not worth persisting (heartbeats, progress,
/// waiters). Only touched under <see cref="Gate"/>.
/// </summary>
internal sealed class EngineState(WorkflowStore store, ActivityRegistry registry, EngineOptions options, ILogger log, TimeProvider time)
{
    public object Gate { get; } = new();
    public WorkflowStore Store { get; } = store;
    /// <summary>The home's artifacts: a step is done only once they hold its outputs.</summary>
    public ArtifactStore Artifacts { get; } = new(store.Home.Root);
    public ActivityRegistry Registry { get; } = registry;
    public EngineOptions Options { get; } = options;
    public ILogger Log { get; } = log;
    public DateTime Now => time.GetUtcNow().UtcDateTime;
    /// <summary>When this process started: steps dispatched before it were handed out by an earlier process.</summary>
    public DateTime BootTime { get; } = time.GetUtcNow().UtcDateTime;

    public Dictionary<Guid, ActiveRun> Active { get; } = [];
    /// <summary>Per step id, the last sign of life (dispatch, start, heartbeat): drives the heartbeat timeout.</summary>
    public Dictionary<string, DateTime> LastSeen { get; } = [];
    /// <summary>
    /// Per dispatched step, its current attempt's command: how many times it was sent, when last, and whether that
    /// send failed. Drives the re-sends of unacknowledged dispatches in <see cref="Watchdog"/>.
    /// </summary>
    public Dictionary<string, DispatchSends> Sends { get; } = [];
    public Dictionary<string, (double Fraction, string Message)> Progress { get; } = [];
    public Dictionary<Guid, List<TaskCompletionSource<RunSnapshot>>> Waiters { get; } = [];
    public Dictionary<Guid, DateTime> LastSnapshot { get; } = [];
    /// <summary>Numbers every captured snapshot in commit order, so listeners can be spared a stale one.</summary>
    public long SnapshotSequence { get; set; }
    /// <summary>
    /// Per pool, the last time it was seen busy: a worker reported anything (started, heartbeat, completed, faulted;
    /// any attempt) or a tick found one of its steps running. Drives the dispatch timeout in <see cref="Watchdog"/>.
    /// </summary>
    public Dictionary<string, DateTime> PoolActive { get; } = new(StringComparer.Ordinal);

    /// <summary>How often the command of <paramref name="Attempt"/> went out (<paramref name="Count"/>), the last time at <paramref name="At"/>.</summary>
    public sealed record DispatchSends(int Attempt, int Count, DateTime At, bool Failed);

    /// <summary>A run being advanced, with its parsed definition and bound parameters.</summary>
    public sealed record ActiveRun(RunRecord Run, WorkflowDefinition Definition, JsonObject Parameters);
}
