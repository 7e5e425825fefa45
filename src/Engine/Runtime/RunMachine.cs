using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Store;
using static PostTrain.Engine.Runtime.EngineState;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// The transitions of runs and steps: begin, advance (create the steps the <see cref="WorkflowPlanner"/> finds
/// ready, take cached results, dispatch the rest), dispatch, failure with retry, finish. Called by commands, worker
/// reports and the watchdog, always under the engine's lock and inside a <see cref="Transition"/>'s transaction.
/// </summary>
internal sealed class RunMachine(EngineState state)
{
    private WorkflowStore Store => state.Store;
    private DateTime Now => state.Now;

    public void Begin(ActiveRun active, Outbox outbox)
    {
        var run = active.Run;
        run.State = RunState.Running;
        run.StartedAt ??= Now;
        Store.Runs.Update(run);
        Advance(active, outbox);
    }

    public void Advance(ActiveRun active, Outbox outbox)
    {
        var run = active.Run;
        while (run.State == RunState.Running)
        {
            var steps = Store.StepsOf(run.Id).ToDictionary(s => s.Path, StringComparer.Ordinal);
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
                if (!state.Registry.TryGet(ready.Node.Type, out var descriptor))
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
                    MaxAttempts = ready.Node.Retry?.MaxAttempts ?? state.Options.MaxAttempts,
                    BackoffSeconds = ready.Node.Retry?.BackoffSeconds ?? state.Options.Backoff.TotalSeconds,
                    CreatedAt = Now,
                };
                if (Store.StepCache.FindById(step.CacheKey) is { } cached)
                {
                    MarkDone(step, cached.OutputsJson, fromCache: true);
                    Store.Steps.Insert(step);
                    // The run's own record (tables, reports, charts) needs the figures of work it reused, not only its outputs.
                    RecordMetrics(run, step, cached.Metrics);
                    resolvedFromCache = true;
                    continue;
                }
                Store.Steps.Insert(step);
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

    public void Dispatch(RunRecord run, StepRecord step, Outbox outbox)
    {
        step.Attempt++;
        step.State = StepState.Dispatched;
        // The worker of the attempt before must not pass for this one's: a second start is told to stop by comparing them.
        step.Worker = null;
        step.DispatchedAt = Now;
        step.NextAttemptAt = null;
        Store.Steps.Update(step);
        state.LastSeen[step.Id] = Now;
        state.Progress.Remove(step.Id);
        state.Sends[step.Id] = new DispatchSends(step.Attempt, 1, Now, Failed: false);
        outbox.Sends.Add(Command(run, step));
    }

    /// <summary>
    /// Sends a dispatched step's command again, the same attempt: no worker acknowledged it (the broker may have
    /// dropped it). Nothing persisted changes; a worker that already runs the attempt drops the copy.
    /// </summary>
    public void Resend(RunRecord run, StepRecord step, Outbox outbox)
    {
        var sends = state.Sends.TryGetValue(step.Id, out var s) && s.Attempt == step.Attempt ? s.Count : 1;
        state.Sends[step.Id] = new DispatchSends(step.Attempt, sends + 1, Now, Failed: false);
        outbox.Sends.Add(Command(run, step));
    }

    private static ExecuteActivity Command(RunRecord run, StepRecord step) => new()
    {
        RunId = run.Id,
        StepPath = step.Path,
        Attempt = step.Attempt,
        ActivityType = step.ActivityType,
        Pool = step.Pool,
        InputsJson = step.InputsJson,
        CacheKey = step.CacheKey,
        Seed = step.Seed,
        RunSeed = run.Seed,
        Round = step.Round,
    };

    public void RegisterFailure(RunRecord run, StepRecord step, string error, Outbox outbox, bool permanent = false)
    {
        step.Failures++;
        step.Error = error;
        state.LastSeen.Remove(step.Id);
        state.Sends.Remove(step.Id);
        if (step.Failures < step.MaxAttempts && !permanent)
        {
            var delay = EngineTime.Backoff(step.BackoffSeconds, step.Failures, state.Options.MaxBackoff);
            step.State = StepState.Retrying;
            step.NextAttemptAt = Now + delay;
            Store.Steps.Update(step);
            state.Log.LogWarning("step {Path} of run {Run} failed (attempt {Attempt}/{Max}), retrying in {Delay}: {Error}", step.Path, run.Id, step.Failures, step.MaxAttempts, delay, error);
            return;
        }
        step.State = StepState.Failed;
        step.FinishedAt = Now;
        Store.Steps.Update(step);
        Finish(run, RunState.Failed, $"step '{step.Path}' ({step.ActivityType}) failed after {step.Failures} attempt(s){(permanent ? " (a deterministic error, not retried)" : "")}: {error}", outbox);
    }

    public void Finish(RunRecord run, RunState runState, string? error, Outbox outbox)
    {
        run.State = runState;
        run.Error = error;
        run.FinishedAt = Now;
        Store.Runs.Update(run);
        foreach (var s in Store.StepsOf(run.Id).Where(s => s.IsInFlight))
        {
            s.State = StepState.Cancelled;
            s.FinishedAt = Now;
            Store.Steps.Update(s);
            state.LastSeen.Remove(s.Id);
            state.Sends.Remove(s.Id);
        }
        if (runState != RunState.Succeeded) outbox.Publishes.Add(new RunCancelled { RunId = run.Id, At = Now });
        outbox.Publishes.Add(new RunFinished { RunId = run.Id, WorkflowId = run.WorkflowId, State = runState.ToString(), Error = error, At = Now });
        state.Active.Remove(run.Id);
        if (error is not null) state.Log.LogWarning("run {Run} {State}: {Error}", run.Id, runState, error);
        // The next queued run of this workflow starts now.
        var next = Store.Runs.Find(r => r.WorkflowId == run.WorkflowId && r.State == RunState.Queued).OrderBy(r => r.CreatedAt).FirstOrDefault();
        if (next is not null)
        {
            Begin(Load(next), outbox);
            outbox.Touch(next.Id);
        }
    }

    public ActiveRun Load(RunRecord run)
    {
        if (state.Active.TryGetValue(run.Id, out var a))
        {
            // Keep the cached definition, but use the freshest record.
            a = a with { Run = run };
            state.Active[run.Id] = a;
            return a;
        }
        var def = Store.Definitions.FindById(run.DefinitionHash)
            ?? throw new InvalidOperationException($"run {run.Id}: its definition {run.DefinitionHash} is missing from the store");
        var load = WorkflowLoader.Parse(def.Json, def.Source);
        if (load.Definition is null) throw new InvalidOperationException($"run {run.Id}: stored definition does not parse: {string.Join("; ", load.Problems)}");
        a = new ActiveRun(run, load.Definition, JsonNode.Parse(run.ParametersJson)!.AsObject());
        state.Active[run.Id] = a;
        return a;
    }

    private void RecordRounds(RunRecord run, IReadOnlyList<RoundStatus> rounds)
    {
        foreach (var r in rounds)
        {
            var id = $"{run.Id:N}:{r.Container}[{r.Index}]";
            var rec = Store.Rounds.FindById(id);
            if (rec is null) Store.Rounds.Insert(new RoundRecord { Id = id, RunId = run.Id, Container = r.Container, Index = r.Index, Completed = r.Completed, StartedAt = Now, FinishedAt = r.Completed ? Now : null });
            else if (r.Completed && !rec.Completed)
            {
                rec.Completed = true;
                rec.FinishedAt = Now;
                Store.Rounds.Update(rec);
            }
        }
    }

    /// <summary>A step's outputs arrived (from a worker or the step cache): it is done, with no error left from earlier attempts.</summary>
    public void MarkDone(StepRecord step, string outputsJson, bool fromCache)
    {
        step.State = StepState.Done;
        step.OutputsJson = outputsJson;
        step.FromCache = fromCache;
        step.FinishedAt = Now;
        step.Error = null;
    }

    /// <summary>Records a finished step's metrics on the run.</summary>
    public void RecordMetrics(RunRecord run, StepRecord step, IEnumerable<MetricValue> metrics)
    {
        foreach (var metric in metrics)
            Store.Metrics.Insert(new MetricRecord { RunId = run.Id, StepPath = step.Path, Round = step.Round, Name = metric.Name, Value = metric.Value, Step = metric.Step, At = Now });
    }
}
