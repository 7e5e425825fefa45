using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// Advances runs: creates steps the <see cref="WorkflowPlanner"/> finds ready, dispatches them as
/// <see cref="ExecuteActivity"/>, and records every worker report. The work is split by who asks:
/// <see cref="EngineCommands"/> (start, resume, cancel), <see cref="WorkerReports"/> (started, progress, completed,
/// faulted), the <see cref="Watchdog"/> (retries, lost steps) and <see cref="RunQueries"/>; all of them change state
/// only through <see cref="RunMachine"/> inside one <see cref="Transition"/>: one LiteDB transaction under one lock,
/// then the snapshot files, then the messages.
/// </summary>
public sealed class WorkflowEngine
{
    private readonly EngineState _state;
    private readonly EngineCommands _commands;
    private readonly WorkerReports _reports;
    private readonly Watchdog _watchdog;
    private readonly RunQueries _queries;

    public WorkflowEngine(WorkflowStore store, ActivityRegistry registry, IEngineBus bus, EngineOptions options, ILogger<WorkflowEngine> log, TimeProvider? time = null)
    {
        _state = new EngineState(store, registry, options, log, time ?? TimeProvider.System);
        var snapshots = new RunSnapshots(_state);
        var machine = new RunMachine(_state);
        var transition = new Transition(_state, snapshots, bus, () => RunChanged);
        _commands = new EngineCommands(_state, machine, transition);
        _reports = new WorkerReports(_state, machine, transition);
        _watchdog = new Watchdog(_state, machine, transition);
        _queries = new RunQueries(_state, snapshots);
    }

    /// <summary>Raised after every change of a run, outside the engine's lock.</summary>
    public event Action<RunSnapshot>? RunChanged;

    public PostTrainHome Home => _state.Store.Home;

    // ---- commands ----

    /// <summary>Creates a run (queued behind a running run of the same workflow) and dispatches its first steps.</summary>
    public Task<Guid> StartRunAsync(WorkflowDefinition definition, JsonObject parameters, long seed, string? trigger = null, Guid? runId = null) =>
        _commands.StartRunAsync(definition, parameters, seed, trigger, runId);

    /// <summary>
    /// Continues a run after a restart: steps that were dispatched or running are dispatched again (completed steps
    /// stay done; a step whose worker had finished finds its outputs in the step cache). A failed or cancelled run
    /// gets its unfinished steps re-created.
    /// </summary>
    public async Task<RunSnapshot> ResumeAsync(Guid runId, bool redispatchRunning = true)
    {
        await _commands.ResumeAsync(runId, redispatchRunning).ConfigureAwait(false);
        return Snapshot(runId);
    }

    /// <summary>Resumes every run that was running (and starts queued ones) when the owning process starts.</summary>
    public Task ResumeAllAsync() => _commands.ResumeAllAsync();

    /// <summary>Cancels a run: its unfinished steps become cancelled and workers are told to stop. False if it had finished.</summary>
    public Task<bool> CancelAsync(Guid runId, string reason = "cancelled by user") => _commands.CancelAsync(runId, reason);

    /// <summary>
    /// Marks a running or queued run <see cref="RunState.Interrupted"/> before its owner stops (Ctrl+C): its steps stay
    /// as they are, so <see cref="ResumeAsync"/> re-dispatches what was in flight. False if it was not running.
    /// </summary>
    public Task<bool> InterruptAsync(Guid runId) => _commands.InterruptAsync(runId);

    /// <summary>Registers a dataset whose bytes are already complete in the artifact store.</summary>
    public void RecordDataset(DatasetRecord dataset) => _commands.RecordDataset(dataset);

    // ---- worker reports ----

    public Task OnStartedAsync(ActivityStarted m) => _reports.OnStartedAsync(m);
    public Task OnProgressAsync(ActivityProgress m) => _reports.OnProgressAsync(m);
    public Task OnCompletedAsync(ActivityCompleted m) => _reports.OnCompletedAsync(m);
    public Task OnFaultedAsync(ActivityFaulted m) => _reports.OnFaultedAsync(m);

    // ---- the watchdog ----

    /// <summary>
    /// Dispatches retries that are due, treats running steps without heartbeats as lost, and dispatched steps that no
    /// worker started while their pool was idle as lost commands.
    /// </summary>
    public Task TickAsync() => _watchdog.TickAsync();

    // ---- queries ----

    /// <summary>Completes when the run reaches Succeeded, Failed or Cancelled.</summary>
    public Task<RunSnapshot> WaitForRunAsync(Guid runId, CancellationToken cancellationToken = default) => _queries.WaitForRunAsync(runId, cancellationToken);

    public RunSnapshot Snapshot(Guid runId) => _queries.Snapshot(runId);

    public IReadOnlyList<DatasetRecord> Datasets() => _queries.Read(s => s.Datasets.FindAll().OrderBy(d => d.At));

    public IReadOnlyList<MetricRecord> Metrics(Guid runId) => _queries.Read(s => s.Metrics.Find(m => m.RunId == runId));

    public IReadOnlyList<CheckpointRecord> Checkpoints() => _queries.Read(s => s.Checkpoints.FindAll());

    public IReadOnlyList<RoundRecord> Rounds(Guid runId) => _queries.Read(s => s.Rounds.Find(r => r.RunId == runId).OrderBy(r => r.Index));

    public IReadOnlyList<RunRecord> Runs() => _queries.Read(s => s.Runs.FindAll().OrderByDescending(r => r.CreatedAt));

    public IReadOnlyList<StepRecord> Steps(Guid runId) => _queries.Read(s => s.StepsOf(runId).OrderBy(x => x.CreatedAt));
}
