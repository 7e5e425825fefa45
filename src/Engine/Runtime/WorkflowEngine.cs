using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Core.Files;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// Advances runs: creates steps the <see cref="WorkflowPlanner"/> finds ready, dispatches them as
/// <see cref="ExecuteActivity"/>, and records every worker report. Each transition is one LiteDB transaction
/// followed by a snapshot file for readers; messages go out only after the transaction commits. All state changes
/// are serialized under one lock (LiteDB transactions are per thread), and no I/O to the bus happens under it.
/// </summary>
public sealed class WorkflowEngine
{
    private readonly object _gate = new();
    private readonly WorkflowStore _store;
    private readonly ActivityRegistry _registry;
    private readonly IEngineBus _bus;
    private readonly EngineOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Dictionary<Guid, ActiveRun> _active = [];
    private readonly Dictionary<string, DateTime> _lastSeen = [];
    private readonly Dictionary<string, (double Fraction, string Message)> _progress = [];
    private readonly Dictionary<Guid, List<TaskCompletionSource<RunSnapshot>>> _waiters = [];
    private readonly Dictionary<Guid, DateTime> _lastSnapshot = [];
    /// <summary>
    /// Per pool, the last time it was seen busy: a worker reported anything (started, heartbeat, completed, faulted;
    /// any attempt) or a tick found one of its steps running. Drives the dispatch timeout in <see cref="TickAsync"/>.
    /// </summary>
    private readonly Dictionary<string, DateTime> _poolActive = new(StringComparer.Ordinal);
    private readonly DateTime _bootTime;

    public WorkflowEngine(WorkflowStore store, ActivityRegistry registry, IEngineBus bus, EngineOptions options, ILogger<WorkflowEngine> log, TimeProvider? time = null)
    {
        _store = store;
        _registry = registry;
        _bus = bus;
        _options = options;
        _log = log;
        _time = time ?? TimeProvider.System;
        _bootTime = Now;
    }

    /// <summary>Raised after every change of a run, outside the engine's lock.</summary>
    public event Action<RunSnapshot>? RunChanged;

    public PostTrainHome Home => _store.Home;

    private sealed record ActiveRun(RunRecord Run, WorkflowDefinition Definition, JsonObject Parameters);

    private sealed class Outbox
    {
        public List<ExecuteActivity> Sends { get; } = [];
        public List<object> Publishes { get; } = [];
        public List<RunSnapshot> Changed { get; } = [];
        public List<(TaskCompletionSource<RunSnapshot>, RunSnapshot)> Finished { get; } = [];
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    /// <summary>Creates a run (queued behind a running run of the same workflow) and dispatches its first steps.</summary>
    public async Task<Guid> StartRunAsync(WorkflowDefinition definition, JsonObject parameters, long seed, string? trigger = null, Guid? runId = null)
    {
        var outbox = new Outbox();
        Guid id;
        lock (_gate)
        {
            id = _store.InTransaction(() =>
            {
                var defId = $"{definition.Id}@{definition.Version}#{definition.ContentHash[..12]}";
                if (_store.Definitions.FindById(defId) is null)
                    _store.Definitions.Insert(new DefinitionRecord { Id = defId, WorkflowId = definition.Id, Version = definition.Version, Hash = definition.ContentHash, Source = definition.Source, Json = definition.Json, At = Now });
                var run = new RunRecord
                {
                    Id = runId ?? Guid.NewGuid(),
                    WorkflowId = definition.Id,
                    WorkflowVersion = definition.Version,
                    DefinitionHash = defId,
                    DefinitionSource = definition.Source,
                    ParametersJson = parameters.ToJsonString(),
                    Seed = seed,
                    Trigger = trigger,
                    State = RunState.Queued,
                    CreatedAt = Now,
                };
                if (_store.Runs.FindById(run.Id) is not null) throw new InvalidOperationException($"run {run.Id} exists already");
                var busy = _store.Runs.Exists(r => r.WorkflowId == definition.Id && r.State == RunState.Running);
                _store.Runs.Insert(run);
                var active = new ActiveRun(run, definition, (JsonObject)parameters.DeepClone());
                _active[run.Id] = active;
                if (!busy) Begin(active, outbox);
                else _log.LogInformation("run {Run} of {Workflow} queued behind a running one", run.Id, definition.Id);
                return run.Id;
            });
            Snapshot(id, outbox);
        }
        await FlushAsync(outbox).ConfigureAwait(false);
        return id;
    }

    /// <summary>
    /// Continues a run after a restart: steps that were dispatched or running are dispatched again (completed steps
    /// stay done; a step whose worker had finished finds its outputs in the step cache). A failed or cancelled run
    /// gets its unfinished steps re-created.
    /// </summary>
    public async Task<RunSnapshot> ResumeAsync(Guid runId, bool redispatchRunning = true)
    {
        var outbox = new Outbox();
        lock (_gate)
        {
            var run = _store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId} in {_store.Home.DatabasePath}");
            _store.InTransaction(() =>
            {
                var active = Load(run);
                switch (run.State)
                {
                    case RunState.Succeeded:
                        return;
                    case RunState.Queued:
                        if (!_store.Runs.Exists(r => r.WorkflowId == run.WorkflowId && r.State == RunState.Running)) Begin(active, outbox);
                        return;
                    case RunState.Interrupted:
                        run.State = RunState.Running;
                        _store.Runs.Update(run);
                        goto default;
                    case RunState.Failed or RunState.Cancelled:
                        foreach (var s in _store.StepsOf(runId).Where(s => s.State != StepState.Done)) _store.Steps.Delete(s.Id);
                        run.Error = null;
                        run.FinishedAt = null;
                        Begin(active, outbox);
                        return;
                    default:
                        foreach (var s in _store.StepsOf(runId))
                        {
                            // Only work handed out by an earlier process: this one's own dispatches are still live.
                            if (s.DispatchedAt is { } at && at >= _bootTime) continue;
                            if (s.State == StepState.Dispatched || s.State == StepState.Pending || (s.State == StepState.Running && redispatchRunning)) Dispatch(run, s, outbox);
                            else if (s.State == StepState.Running) _lastSeen[s.Id] = Now;
                        }
                        Advance(active, outbox);
                        return;
                }
            });
            Snapshot(runId, outbox);
        }
        await FlushAsync(outbox).ConfigureAwait(false);
        return Snapshot(runId);
    }

    /// <summary>Resumes every run that was running (and starts queued ones) when the owning process starts.</summary>
    public async Task ResumeAllAsync()
    {
        List<RunRecord> pending;
        lock (_gate) pending = _store.Runs.Find(r => r.State == RunState.Running || r.State == RunState.Queued).OrderBy(r => r.CreatedAt).ToList();
        foreach (var r in pending.Where(r => r.State == RunState.Running))
            await ResumeAsync(r.Id, _options.RedispatchRunningOnStart).ConfigureAwait(false);
        foreach (var r in pending.Where(r => r.State == RunState.Queued))
            await ResumeAsync(r.Id).ConfigureAwait(false);
    }

    /// <summary>Cancels a run: its unfinished steps become cancelled and workers are told to stop. False if it had finished.</summary>
    public async Task<bool> CancelAsync(Guid runId, string reason = "cancelled by user")
    {
        var outbox = new Outbox();
        bool cancelled;
        lock (_gate)
        {
            var run = _store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId} in {_store.Home.DatabasePath}");
            cancelled = !run.IsFinished;
            if (cancelled)
            {
                _store.InTransaction(() => Finish(run, RunState.Cancelled, reason, outbox));
                Snapshot(runId, outbox);
            }
        }
        await FlushAsync(outbox).ConfigureAwait(false);
        return cancelled;
    }

    /// <summary>
    /// Marks a running or queued run <see cref="RunState.Interrupted"/> before its owner stops (Ctrl+C): its steps stay
    /// as they are, so <see cref="ResumeAsync"/> re-dispatches what was in flight. False if it was not running.
    /// </summary>
    public async Task<bool> InterruptAsync(Guid runId)
    {
        var outbox = new Outbox();
        bool interrupted;
        lock (_gate)
        {
            var run = _store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId} in {_store.Home.DatabasePath}");
            interrupted = run.State is RunState.Running or RunState.Queued;
            if (interrupted)
            {
                _store.InTransaction(() => { run.State = RunState.Interrupted; _store.Runs.Update(run); });
                _active.Remove(runId);
                Snapshot(runId, outbox);
            }
        }
        await FlushAsync(outbox).ConfigureAwait(false);
        return interrupted;
    }

    /// <summary>Completes when the run reaches Succeeded, Failed or Cancelled.</summary>
    public Task<RunSnapshot> WaitForRunAsync(Guid runId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var run = _store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId}");
            if (run.IsFinished) return Task.FromResult(Snapshot(runId));
            var tcs = new TaskCompletionSource<RunSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_waiters.TryGetValue(runId, out var list)) _waiters[runId] = list = [];
            list.Add(tcs);
            cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
            return tcs.Task;
        }
    }

    public RunSnapshot Snapshot(Guid runId)
    {
        lock (_gate) return BuildSnapshot(_store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId}"));
    }

    /// <summary>Registers a dataset whose bytes are already complete in the artifact store.</summary>
    public void RecordDataset(DatasetRecord dataset)
    {
        lock (_gate) _store.InTransaction(() => _store.Datasets.Upsert(dataset));
    }

    public IReadOnlyList<DatasetRecord> Datasets()
    {
        lock (_gate) return _store.Datasets.FindAll().OrderBy(d => d.At).ToList();
    }

    public IReadOnlyList<MetricRecord> Metrics(Guid runId)
    {
        lock (_gate) return _store.Metrics.Find(m => m.RunId == runId).ToList();
    }

    public IReadOnlyList<CheckpointRecord> Checkpoints()
    {
        lock (_gate) return _store.Checkpoints.FindAll().ToList();
    }

    public IReadOnlyList<RoundRecord> Rounds(Guid runId)
    {
        lock (_gate) return _store.Rounds.Find(r => r.RunId == runId).OrderBy(r => r.Index).ToList();
    }

    public IReadOnlyList<RunRecord> Runs()
    {
        lock (_gate) return _store.Runs.FindAll().OrderByDescending(r => r.CreatedAt).ToList();
    }

    public IReadOnlyList<StepRecord> Steps(Guid runId)
    {
        lock (_gate) return _store.StepsOf(runId).OrderBy(s => s.CreatedAt).ToList();
    }

    public async Task OnStartedAsync(ActivityStarted m)
    {
        var outbox = new Outbox();
        lock (_gate)
        {
            var step = Reported(m.RunId, m.StepPath, m.Attempt);
            if (step is null || step.State is not (StepState.Dispatched or StepState.Pending)) return;
            _store.InTransaction(() =>
            {
                step.State = StepState.Running;
                step.StartedAt = m.At == default ? Now : m.At;
                step.Worker = m.Worker;
                _store.Steps.Update(step);
            });
            _lastSeen[step.Id] = Now;
            Snapshot(m.RunId, outbox);
        }
        await FlushAsync(outbox).ConfigureAwait(false);
    }

    public async Task OnProgressAsync(ActivityProgress m)
    {
        var outbox = new Outbox();
        lock (_gate)
        {
            var step = Reported(m.RunId, m.StepPath, m.Attempt);
            // Retrying: this very attempt was already counted as failed (declared lost, or faulted); the attempt
            // number only moves on at the next dispatch. Its late heartbeats must not turn the step back to Running,
            // or the due retry would never be dispatched.
            if (step is null || step.State is not (StepState.Pending or StepState.Dispatched or StepState.Running)) return;
            _lastSeen[step.Id] = Now;
            _progress[step.Id] = (m.Fraction, m.Message);
            if (step.State != StepState.Running)
            {
                step.State = StepState.Running;
                step.StartedAt ??= Now;
                _store.InTransaction(() => _store.Steps.Update(step));
            }
            else if (_lastSnapshot.TryGetValue(m.RunId, out var last) && Now - last < TimeSpan.FromMilliseconds(500)) return;
            Snapshot(m.RunId, outbox);
        }
        await FlushAsync(outbox).ConfigureAwait(false);
    }

    public async Task OnCompletedAsync(ActivityCompleted m)
    {
        var outbox = new Outbox();
        lock (_gate)
        {
            var run = _store.Runs.FindById(m.RunId);
            var step = _store.Steps.FindById(StepRecord.MakeId(m.RunId, m.StepPath));
            if (step is not null) _poolActive[step.Pool] = Now;
            // Any attempt's result is good (outputs are a function of the cache key), as long as the step still waits for one.
            if (run is null || step is null || run.State != RunState.Running || !step.IsInFlight) return;
            _store.InTransaction(() =>
            {
                step.State = StepState.Done;
                step.OutputsJson = m.OutputsJson;
                step.FromCache = m.FromCache;
                step.FinishedAt = Now;
                step.Error = null;
                _store.Steps.Update(step);
                foreach (var metric in m.Metrics)
                    _store.Metrics.Insert(new MetricRecord { RunId = run.Id, StepPath = step.Path, Round = step.Round, Name = metric.Name, Value = metric.Value, Step = metric.Step, At = Now });
                foreach (var c in m.Checkpoints)
                    _store.Checkpoints.Upsert(new CheckpointRecord { Id = c.Artifact, Kind = c.Kind, Name = c.Name, RunId = run.Id, StepPath = step.Path, Round = c.Round ?? step.Round, Sampler = c.Sampler, Parent = c.Parent, RewardModel = c.RewardModel, At = Now });
                foreach (var a in ArtifactsIn(JsonNode.Parse(m.OutputsJson)))
                    if (_store.Artifacts.FindById(a) is null) _store.Artifacts.Insert(new ArtifactRecord { Id = a, RunId = run.Id, StepPath = step.Path, At = Now });
                _store.StepCache.Upsert(new StepCacheEntry { Id = step.CacheKey, ActivityType = step.ActivityType, OutputsJson = m.OutputsJson, Metrics = [.. m.Metrics], Checkpoints = [.. m.Checkpoints], At = Now });
                _lastSeen.Remove(step.Id);
                _progress.Remove(step.Id);
                Advance(Load(run), outbox);
            });
            Snapshot(m.RunId, outbox);
        }
        await FlushAsync(outbox).ConfigureAwait(false);
    }

    public async Task OnFaultedAsync(ActivityFaulted m)
    {
        var outbox = new Outbox();
        lock (_gate)
        {
            var run = _store.Runs.FindById(m.RunId);
            var step = Reported(m.RunId, m.StepPath, m.Attempt);
            // A Retrying step's attempt has failed already (see OnProgressAsync): a late fault must not count twice.
            if (run is null || step is null || run.State != RunState.Running || !step.IsInFlight || step.State == StepState.Retrying) return;
            _store.InTransaction(() => RegisterFailure(run, step, $"{m.ExceptionType}: {m.Error}", outbox, permanent: m.Permanent));
            Snapshot(m.RunId, outbox);
        }
        await FlushAsync(outbox).ConfigureAwait(false);
    }

    /// <summary>
    /// Dispatches retries that are due, treats running steps without heartbeats as lost, and dispatched steps that no
    /// worker started while their pool was idle as lost commands.
    /// </summary>
    public async Task TickAsync()
    {
        var outbox = new Outbox();
        lock (_gate)
        {
            var now = Now;
            // Read once: the pool pass below needs every run's steps before any run's steps are handled.
            var running = _store.Runs.Find(r => r.State == RunState.Running).Select(r => (Run: r, Steps: _store.StepsOf(r.Id))).ToList();
            // A pool with a running step (of any run) has a taken slot: steps queued behind it are not lost.
            foreach (var (_, steps) in running)
                foreach (var step in steps)
                    if (step.State == StepState.Running) _poolActive[step.Pool] = now;
            foreach (var (run, steps) in running)
            {
                var changed = false;
                _store.InTransaction(() =>
                {
                    foreach (var step in steps)
                    {
                        if (run.State != RunState.Running) break;
                        if (step.State == StepState.Retrying && step.NextAttemptAt <= now)
                        {
                            Dispatch(run, step, outbox);
                            changed = true;
                        }
                        else if (step.State == StepState.Running)
                        {
                            var seen = _lastSeen.TryGetValue(step.Id, out var t) ? t : (_lastSeen[step.Id] = now);
                            if (now - seen > _options.HeartbeatTimeout)
                            {
                                _log.LogWarning("step {Path} of run {Run} lost: no heartbeat for {Elapsed}", step.Path, run.Id, Seconds(now - seen));
                                RegisterFailure(run, step, $"lost: no heartbeat for {Seconds(now - seen)} (worker stopped or died)", outbox);
                                changed = true;
                            }
                        }
                        else if (step.State == StepState.Dispatched)
                        {
                            // A dispatched step waits for a worker's ActivityStarted, legitimately for long while every
                            // slot of its pool is taken: the worker holds the command up to SlotWait, then puts it back
                            // at the end of the queue, and no message reaches the engine meanwhile. But a taken slot
                            // shows: the clock restarts whenever a step of the pool is running here, or any worker of
                            // the pool reports anything, even about a stale attempt (_poolActive). Only a pool idle for
                            // DispatchTimeout since the dispatch means the command is gone: AcceptAsync threw (the
                            // delivery went to the error queue) or no worker serves the pool. That counts as a failed
                            // attempt, like a lost heartbeat: the retry is a new attempt with the usual backoff and
                            // limit, so a pool nobody serves ends the run with this error instead of waiting forever.
                            // (Re-sending the same attempt could run it twice under one key in a worker, which tracks
                            // its work by (run, path, attempt).) Should the old command still be delivered, running it
                            // is harmless: outputs are a function of the cache key, a completion of any attempt is
                            // accepted, and other reports about a stale attempt are ignored. A command lost in a pool
                            // that stays busy with other work is noticed once the pool goes idle.
                            var since = _lastSeen.TryGetValue(step.Id, out var t) ? t : (_lastSeen[step.Id] = now);
                            if (_poolActive.TryGetValue(step.Pool, out var active) && active > since) since = active;
                            if (now - since > _options.DispatchTimeout)
                            {
                                _log.LogWarning("step {Path} of run {Run} never started: pool {Pool} idle for {Elapsed} since it was dispatched", step.Path, run.Id, step.Pool, Seconds(now - since));
                                RegisterFailure(run, step, $"not started: no worker of pool '{step.Pool}' took it; the pool was idle for {Seconds(now - since)} (command lost, or no worker serves the pool)", outbox);
                                changed = true;
                            }
                        }
                    }
                });
                if (changed) Snapshot(run.Id, outbox);
            }
        }
        await FlushAsync(outbox).ConfigureAwait(false);
    }

    // ---- transitions (called under _gate, inside a transaction) ----

    private void Begin(ActiveRun active, Outbox outbox)
    {
        var run = active.Run;
        run.State = RunState.Running;
        run.StartedAt ??= Now;
        _store.Runs.Update(run);
        Advance(active, outbox);
    }

    private void Advance(ActiveRun active, Outbox outbox)
    {
        var run = active.Run;
        while (run.State == RunState.Running)
        {
            var steps = _store.StepsOf(run.Id).ToDictionary(s => s.Path, StringComparer.Ordinal);
            RunPlan plan;
            try
            {
                plan = WorkflowPlanner.Plan(active.Definition, active.Parameters, steps);
            }
            catch (PlanException e)
            {
                Finish(run, RunState.Failed, e.Message, outbox);
                return;
            }
            RecordRounds(run, plan.Rounds);
            var resolvedFromCache = false;
            foreach (var ready in plan.Ready)
            {
                if (!_registry.TryGet(ready.Node.Type, out var descriptor))
                {
                    Finish(run, RunState.Failed, $"{ready.Node.Path}: unknown activity type '{ready.Node.Type}' in this process", outbox);
                    return;
                }
                var seed = StepIdentity.Seed(run.Seed, ready.Path);
                var step = new StepRecord
                {
                    Id = StepRecord.MakeId(run.Id, ready.Path),
                    RunId = run.Id,
                    Path = ready.Path,
                    NodeId = ready.Node.Id,
                    ActivityType = ready.Node.Type,
                    Pool = ready.Node.Pool ?? descriptor.Pool,
                    Round = ready.Round,
                    State = StepState.Pending,
                    InputsJson = ready.Inputs.ToJsonString(),
                    Seed = seed,
                    CacheKey = StepIdentity.CacheKey(ready.Node.Type, ready.Inputs, seed),
                    MaxAttempts = ready.Node.Retry?.MaxAttempts ?? _options.MaxAttempts,
                    BackoffSeconds = ready.Node.Retry?.BackoffSeconds ?? _options.Backoff.TotalSeconds,
                    CreatedAt = Now,
                };
                if (_store.StepCache.FindById(step.CacheKey) is { } cached)
                {
                    step.State = StepState.Done;
                    step.OutputsJson = cached.OutputsJson;
                    step.FromCache = true;
                    step.FinishedAt = Now;
                    _store.Steps.Insert(step);
                    // The run's own record (tables, reports, charts) needs the figures of work it reused, not only its outputs.
                    foreach (var metric in cached.Metrics)
                        _store.Metrics.Insert(new MetricRecord { RunId = run.Id, StepPath = step.Path, Round = step.Round, Name = metric.Name, Value = metric.Value, Step = metric.Step, At = Now });
                    resolvedFromCache = true;
                    continue;
                }
                _store.Steps.Insert(step);
                Dispatch(run, step, outbox);
            }
            if (resolvedFromCache) continue;
            if (plan.Complete)
            {
                run.OutputsJson = plan.Outputs?.ToJsonString() ?? "{}";
                Finish(run, RunState.Succeeded, null, outbox);
            }
            return;
        }
    }

    private void Dispatch(RunRecord run, StepRecord step, Outbox outbox)
    {
        step.Attempt++;
        step.State = StepState.Dispatched;
        step.DispatchedAt = Now;
        step.NextAttemptAt = null;
        _store.Steps.Update(step);
        _lastSeen[step.Id] = Now;
        _progress.Remove(step.Id);
        outbox.Sends.Add(new ExecuteActivity
        {
            RunId = run.Id,
            StepPath = step.Path,
            Attempt = step.Attempt,
            ActivityType = step.ActivityType,
            Pool = step.Pool,
            InputsJson = step.InputsJson,
            CacheKey = step.CacheKey,
            Seed = step.Seed,
            Round = step.Round,
        });
    }

    private void RegisterFailure(RunRecord run, StepRecord step, string error, Outbox outbox, bool permanent = false)
    {
        step.Failures++;
        step.Error = error;
        _lastSeen.Remove(step.Id);
        if (step.Failures < step.MaxAttempts && !permanent)
        {
            var delay = TimeSpan.FromSeconds(step.BackoffSeconds * Math.Pow(2, step.Failures - 1));
            if (delay > _options.MaxBackoff) delay = _options.MaxBackoff;
            step.State = StepState.Retrying;
            step.NextAttemptAt = Now + delay;
            _store.Steps.Update(step);
            _log.LogWarning("step {Path} of run {Run} failed (attempt {Attempt}/{Max}), retrying in {Delay}: {Error}", step.Path, run.Id, step.Failures, step.MaxAttempts, delay, error);
            return;
        }
        step.State = StepState.Failed;
        step.FinishedAt = Now;
        _store.Steps.Update(step);
        Finish(run, RunState.Failed, $"step '{step.Path}' ({step.ActivityType}) failed after {step.Failures} attempt(s){(permanent ? " (bad inputs, not retried)" : "")}: {error}", outbox);
    }

    private void Finish(RunRecord run, RunState state, string? error, Outbox outbox)
    {
        run.State = state;
        run.Error = error;
        run.FinishedAt = Now;
        _store.Runs.Update(run);
        foreach (var s in _store.StepsOf(run.Id).Where(s => s.IsInFlight))
        {
            s.State = StepState.Cancelled;
            s.FinishedAt = Now;
            _store.Steps.Update(s);
            _lastSeen.Remove(s.Id);
        }
        if (state != RunState.Succeeded) outbox.Publishes.Add(new RunCancelled { RunId = run.Id, At = Now });
        outbox.Publishes.Add(new RunFinished { RunId = run.Id, WorkflowId = run.WorkflowId, State = state.ToString(), Error = error, At = Now });
        _active.Remove(run.Id);
        if (error is not null) _log.LogWarning("run {Run} {State}: {Error}", run.Id, state, error);
        // The next queued run of this workflow starts now.
        var next = _store.Runs.Find(r => r.WorkflowId == run.WorkflowId && r.State == RunState.Queued).OrderBy(r => r.CreatedAt).FirstOrDefault();
        if (next is not null)
        {
            Begin(Load(next), outbox);
            outbox.Changed.Add(BuildSnapshot(next));
            WriteSnapshotFile(next.Id, outbox.Changed[^1]);
        }
    }

    private void RecordRounds(RunRecord run, IReadOnlyList<RoundStatus> rounds)
    {
        foreach (var r in rounds)
        {
            var id = $"{run.Id:N}:{r.Container}[{r.Index}]";
            var rec = _store.Rounds.FindById(id);
            if (rec is null) _store.Rounds.Insert(new RoundRecord { Id = id, RunId = run.Id, Container = r.Container, Index = r.Index, Completed = r.Completed, StartedAt = Now, FinishedAt = r.Completed ? Now : null });
            else if (r.Completed && !rec.Completed)
            {
                rec.Completed = true;
                rec.FinishedAt = Now;
                _store.Rounds.Update(rec);
            }
        }
    }

    private ActiveRun Load(RunRecord run)
    {
        if (_active.TryGetValue(run.Id, out var a))
        {
            // Keep the cached definition, but use the freshest record.
            a = a with { Run = run };
            _active[run.Id] = a;
            return a;
        }
        var def = _store.Definitions.FindById(run.DefinitionHash)
            ?? throw new InvalidOperationException($"run {run.Id}: its definition {run.DefinitionHash} is missing from the store");
        var load = WorkflowLoader.Parse(def.Json, def.Source);
        if (load.Definition is null) throw new InvalidOperationException($"run {run.Id}: stored definition does not parse: {string.Join("; ", load.Problems)}");
        a = new ActiveRun(run, load.Definition, JsonNode.Parse(run.ParametersJson)!.AsObject());
        _active[run.Id] = a;
        return a;
    }

    /// <summary>
    /// The step a worker reports about, if the report is about its current attempt. Any report, even about an old
    /// attempt, shows that a worker of the step's pool is busy (see the dispatch timeout in <see cref="TickAsync"/>).
    /// </summary>
    private StepRecord? Reported(Guid runId, string path, int attempt)
    {
        var step = _store.Steps.FindById(StepRecord.MakeId(runId, path));
        if (step is not null) _poolActive[step.Pool] = Now;
        return step is not null && step.Attempt == attempt ? step : null;
    }

    /// <summary>"0.45s" below ten seconds (test timeouts are sub-second), "61s" above.</summary>
    private static string Seconds(TimeSpan t) =>
        t < TimeSpan.FromSeconds(10) ? t.TotalSeconds.ToString("0.0##", CultureInfo.InvariantCulture) + "s" : t.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture) + "s";

    private static IEnumerable<string> ArtifactsIn(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(kv => ArtifactsIn(kv.Value)),
        JsonArray a => a.SelectMany(ArtifactsIn),
        JsonValue v when v.TryGetValue<string>(out var s) && s.StartsWith(ArtifactRef.Prefix, StringComparison.Ordinal) => [s],
        _ => [],
    };

    // ---- snapshots and the outbox ----

    private void Snapshot(Guid runId, Outbox outbox)
    {
        var run = _store.Runs.FindById(runId);
        if (run is null) return;
        var snap = BuildSnapshot(run);
        WriteSnapshotFile(runId, snap);
        outbox.Changed.Add(snap);
        if (run.IsFinished && _waiters.Remove(runId, out var list))
            foreach (var tcs in list) outbox.Finished.Add((tcs, snap));
    }

    private void WriteSnapshotFile(Guid runId, RunSnapshot snap)
    {
        AtomicFile.WriteAllText(_store.Home.SnapshotPath(runId), JsonSerializer.Serialize(snap, SnapshotReader.Json));
        _lastSnapshot[runId] = Now;
    }

    private RunSnapshot BuildSnapshot(RunRecord run) => new()
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
        UpdatedAt = Now,
        Steps = [.. _store.StepsOf(run.Id).OrderBy(s => s.CreatedAt).ThenBy(s => s.Path, StringComparer.Ordinal).Select(s => new StepSnapshot
        {
            Path = s.Path,
            ActivityType = s.ActivityType,
            Pool = s.Pool,
            State = s.State,
            Attempt = s.Attempt,
            Failures = s.Failures,
            FromCache = s.FromCache,
            Progress = s.State == StepState.Done ? 1 : _progress.TryGetValue(s.Id, out var p) ? p.Fraction : 0,
            Message = _progress.TryGetValue(s.Id, out var pm) ? pm.Message : "",
            Error = s.Error,
            OutputsJson = s.OutputsJson,
            StartedAt = s.StartedAt,
            FinishedAt = s.FinishedAt,
        })],
    };

    /// <summary>
    /// Sends, publishes and notifies after a transition has committed. Nothing may escape before the end: waiters
    /// were already taken off <c>_waiters</c> by <see cref="Snapshot(Guid, Outbox)"/>, so a skipped completion would
    /// leave them waiting for a run that has finished. Every failure, cancellation included, is logged per message.
    /// </summary>
    private async Task FlushAsync(Outbox outbox)
    {
        try
        {
            foreach (var cmd in outbox.Sends)
            {
                try
                {
                    await _bus.SendAsync(cmd).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    _log.LogError(e, "could not send {Type} for {Path} to pool {Pool}", cmd.ActivityType, cmd.StepPath, cmd.Pool);
                    try
                    {
                        await OnFaultedAsync(new ActivityFaulted { RunId = cmd.RunId, StepPath = cmd.StepPath, Attempt = cmd.Attempt, ExceptionType = e.GetType().Name, Error = $"could not send to pool '{cmd.Pool}': {e.Message}", At = Now }).ConfigureAwait(false);
                    }
                    catch (Exception f)
                    {
                        // The step stays dispatched; the dispatch timeout of TickAsync retries it.
                        _log.LogError(f, "could not record the failed send of {Path}", cmd.StepPath);
                    }
                }
            }
            foreach (var m in outbox.Publishes)
            {
                try { await _bus.PublishAsync(m).ConfigureAwait(false); }
                catch (Exception e) { _log.LogError(e, "could not publish {Type}", m.GetType().Name); }
            }
            if (RunChanged is { } changed)
                foreach (var s in outbox.Changed)
                    foreach (var handler in changed.GetInvocationList().Cast<Action<RunSnapshot>>())
                    {
                        try { handler(s); }
                        catch (Exception e) { _log.LogError(e, "a RunChanged handler failed for run {Run}", s.Id); }
                    }
        }
        finally
        {
            foreach (var (tcs, snap) in outbox.Finished) tcs.TrySetResult(snap);
        }
    }
}
