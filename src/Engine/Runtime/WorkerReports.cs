using Microsoft.Extensions.Logging;
using System.Text.Json.Nodes;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// What workers tell the engine: a step started, made progress (the heartbeat), completed or faulted. Reports about
/// an attempt the engine has moved past are ignored, but still show that the step's pool is busy.
/// </summary>
internal sealed class WorkerReports(EngineState state, RunMachine machine, Transition transition)
{
    private WorkflowStore Store => state.Store;
    private DateTime Now => state.Now;

    public Task OnStartedAsync(ActivityStarted m) =>
        transition.RunAsync(outbox =>
        {
            var step = Reported(m.RunId, m.StepPath, m.Attempt);
            if (step is not null && step.State == StepState.Running && step.Attempt == m.Attempt && step.Worker is { Length: > 0 } holder
                && m.Worker.Length > 0 && m.Worker != holder)
            {
                // A copy of the command (sent again because this attempt's acknowledgement came late) reached a second
                // worker. Two runs of one attempt would take two slots for the same outputs: the later one stops. Should
                // the first worker be dead, its missing heartbeats bring the next attempt as usual.
                state.Log.LogInformation("step {Path} of run {Run}: attempt {Attempt} also started on {Worker} while it runs on {Holder}; stopping that copy", m.StepPath, m.RunId, m.Attempt, m.Worker, holder);
                outbox.Publishes.Add(new StopDuplicateAttempt { RunId = m.RunId, StepPath = m.StepPath, Attempt = m.Attempt, Worker = m.Worker, RunningOn = holder, At = Now });
                return;
            }
            if (step is null || step.State is not (StepState.Dispatched or StepState.Pending)) return;
            step.State = StepState.Running;
            step.StartedAt = m.At == default ? Now : m.At;
            step.Worker = m.Worker;
            Store.Steps.Update(step);
            state.LastSeen[step.Id] = Now;
            state.Sends.Remove(step.Id);
            outbox.Touch(m.RunId);
        });

    public Task OnProgressAsync(ActivityProgress m) =>
        transition.RunAsync(outbox =>
        {
            var step = Reported(m.RunId, m.StepPath, m.Attempt);
            // Retrying: this very attempt was already counted as failed (declared lost, or faulted); the attempt
            // number only moves on at the next dispatch. Its late heartbeats must not turn the step back to Running,
            // or the due retry would never be dispatched.
            if (step is null || step.State is not (StepState.Pending or StepState.Dispatched or StepState.Running)) return;
            state.LastSeen[step.Id] = Now;
            state.Progress[step.Id] = (m.Fraction, m.Message);
            if (step.State != StepState.Running)
            {
                state.Sends.Remove(step.Id);
                step.State = StepState.Running;
                step.StartedAt ??= Now;
                Store.Steps.Update(step);
            }
            // Heartbeats come often; readers need a fresh snapshot at most twice a second.
            else if (state.LastSnapshot.TryGetValue(m.RunId, out var last) && Now - last < TimeSpan.FromMilliseconds(500)) return;
            outbox.Touch(m.RunId);
        });

    public Task OnCompletedAsync(ActivityCompleted m) =>
        transition.RunAsync(outbox =>
        {
            var run = Store.Runs.FindById(m.RunId);
            var step = Store.Steps.FindById(StepRecord.MakeId(m.RunId, m.StepPath));
            if (step is not null) state.PoolActive[step.Pool] = Now;
            // Any attempt's result is good (outputs are a function of the cache key), as long as the step still waits for one.
            if (run is null || step is null || run.State != RunState.Running || !step.IsInFlight) return;
            // Done means the owner holds the outputs: a worker on another machine uploads them before it reports.
            var missing = ArtifactRefs.In(JsonNode.Parse(m.OutputsJson)).Concat(m.Checkpoints.Select(c => c.Artifact))
                .Where(a => !Held(a)).Distinct().ToList();
            if (missing.Count > 0)
            {
                machine.RegisterFailure(run, step, $"outputs not in {state.Artifacts.Root} (the worker did not upload them): {string.Join(", ", missing)}", outbox, permanent: false);
                outbox.Touch(m.RunId);
                return;
            }
            machine.MarkDone(step, m.OutputsJson, m.FromCache);
            Store.Steps.Update(step);
            machine.RecordMetrics(run, step, m.Metrics);
            foreach (var c in m.Checkpoints)
            {
                // A later step of the same run registering a checkpoint again (a selection marks the DPO model it
                // picked) fills what the record lacks; it never erases the parent the step that made it recorded.
                if (Store.Checkpoints.FindById(c.Artifact) is { } made && made.RunId == run.Id)
                {
                    made.Parent ??= c.Parent;
                    made.Sampler ??= c.Sampler;
                    made.RewardModel ??= c.RewardModel;
                    Store.Checkpoints.Update(made);
                    continue;
                }
                Store.Checkpoints.Upsert(new CheckpointRecord { Id = c.Artifact, Kind = c.Kind, Name = c.Name, RunId = run.Id, StepPath = step.Path, Round = c.Round ?? step.Round, Sampler = c.Sampler, Parent = c.Parent, RewardModel = c.RewardModel, At = Now });
            }
            foreach (var a in ArtifactRefs.In(JsonNode.Parse(m.OutputsJson)))
                if (Store.Artifacts.FindById(a) is null) Store.Artifacts.Insert(new ArtifactRecord { Id = a, RunId = run.Id, StepPath = step.Path, At = Now });
            Store.StepCache.Upsert(new StepCacheEntry { Id = step.CacheKey, ActivityType = step.ActivityType, OutputsJson = m.OutputsJson, Metrics = [.. m.Metrics], Checkpoints = [.. m.Checkpoints], At = Now });
            state.LastSeen.Remove(step.Id);
            state.Sends.Remove(step.Id);
            state.Progress.Remove(step.Id);
            machine.Advance(machine.Load(run), outbox);
            outbox.Touch(m.RunId);
        });

    public Task OnFaultedAsync(ActivityFaulted m) =>
        transition.RunAsync(outbox =>
        {
            var run = Store.Runs.FindById(m.RunId);
            var step = Reported(m.RunId, m.StepPath, m.Attempt);
            // A Retrying step's attempt has failed already (see OnProgressAsync): a late fault must not count twice.
            if (run is null || step is null || run.State != RunState.Running || !step.IsInFlight || step.State == StepState.Retrying) return;
            machine.RegisterFailure(run, step, $"{m.ExceptionType}: {m.Error}", outbox, permanent: m.Permanent);
            outbox.Touch(m.RunId);
        });

    /// <summary>
    /// The step a worker reports about, if the report is about its current attempt. Any report, even about an old
    /// attempt, shows that a worker of the step's pool is busy (see the dispatch timeout in <see cref="Watchdog"/>).
    /// </summary>
    private StepRecord? Reported(Guid runId, string path, int attempt)
    {
        var step = Store.Steps.FindById(StepRecord.MakeId(runId, path));
        if (step is not null) state.PoolActive[step.Pool] = Now;
        return step is not null && step.Attempt == attempt ? step : null;
    }

    private bool Held(string reference)
    {
        try { return state.Artifacts.Exists(ArtifactRef.Parse(reference)); }
        catch (FormatException) { return true; } // a string that only looks like a reference is no artifact to hold
    }
}
