using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Store;
using static PostTrain.Engine.Runtime.EngineState;

namespace PostTrain.Engine.Runtime;

/// <summary>What users and triggers ask of the engine: start, resume, cancel runs; record datasets.</summary>
internal sealed class EngineCommands(EngineState state, RunMachine machine, Transition transition)
{
    private WorkflowStore Store => state.Store;

    public Task<Guid> StartRunAsync(WorkflowDefinition definition, JsonObject parameters, long seed, string? trigger, Guid? runId) =>
        transition.RunAsync(outbox =>
        {
            var defId = $"{definition.Id}@{definition.Version}#{definition.ContentHash[..12]}";
            if (Store.Definitions.FindById(defId) is null)
                Store.Definitions.Insert(new DefinitionRecord { Id = defId, WorkflowId = definition.Id, Version = definition.Version, Hash = definition.ContentHash, Source = definition.Source, Json = definition.Json, At = state.Now });
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
                CreatedAt = state.Now,
            };
            if (Store.Runs.FindById(run.Id) is not null) throw new InvalidOperationException($"run {run.Id} exists already");
            var busy = Store.Runs.Exists(r => r.WorkflowId == definition.Id && r.State == RunState.Running);
            Store.Runs.Insert(run);
            var active = new ActiveRun(run, definition, (JsonObject)parameters.DeepClone());
            state.Active[run.Id] = active;
            if (!busy) machine.Begin(active, outbox);
            else state.Log.LogInformation("run {Run} of {Workflow} queued behind a running one", run.Id, definition.Id);
            outbox.Touch(run.Id);
            return run.Id;
        });

    /// <summary>
    /// Continues a run after a restart: steps that were dispatched or running are dispatched again (completed steps
    /// stay done; a step whose worker had finished finds its outputs in the step cache). A failed or cancelled run
    /// gets its unfinished steps re-created.
    /// </summary>
    public Task ResumeAsync(Guid runId, bool redispatchRunning) =>
        transition.RunAsync(outbox =>
        {
            var run = Store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId} in {Store.Home.DatabasePath}");
            outbox.Touch(runId);
            var active = machine.Load(run);
            switch (run.State)
            {
                case RunState.Succeeded:
                    return;
                case RunState.Queued:
                    if (!Store.Runs.Exists(r => r.WorkflowId == run.WorkflowId && r.State == RunState.Running)) machine.Begin(active, outbox);
                    return;
                case RunState.Interrupted:
                    run.State = RunState.Running;
                    Store.Runs.Update(run);
                    goto default;
                case RunState.Failed or RunState.Cancelled:
                    foreach (var s in Store.StepsOf(runId).Where(s => s.State != StepState.Done)) Store.Steps.Delete(s.Id);
                    run.Error = null;
                    run.FinishedAt = null;
                    machine.Begin(active, outbox);
                    return;
                default:
                    foreach (var s in Store.StepsOf(runId))
                    {
                        // Only work handed out by an earlier process: this one's own dispatches are still live.
                        if (s.DispatchedAt is { } at && at >= state.BootTime) continue;
                        if (s.State == StepState.Dispatched || s.State == StepState.Pending || (s.State == StepState.Running && redispatchRunning)) machine.Dispatch(run, s, outbox);
                        else if (s.State == StepState.Running) state.LastSeen[s.Id] = state.Now;
                    }
                    machine.Advance(active, outbox);
                    return;
            }
        });

    /// <summary>Resumes every run that was running (and starts queued ones) when the owning process starts.</summary>
    public async Task ResumeAllAsync()
    {
        List<RunRecord> pending;
        lock (state.Gate) pending = Store.Runs.Find(r => r.State == RunState.Running || r.State == RunState.Queued).OrderBy(r => r.CreatedAt).ToList();
        foreach (var r in pending.Where(r => r.State == RunState.Running))
            await ResumeAsync(r.Id, state.Options.RedispatchRunningOnStart).ConfigureAwait(false);
        foreach (var r in pending.Where(r => r.State == RunState.Queued))
            await ResumeAsync(r.Id, redispatchRunning: true).ConfigureAwait(false);
    }

    /// <summary>Cancels a run: its unfinished steps become cancelled and workers are told to stop. False if it had finished.</summary>
    public Task<bool> CancelAsync(Guid runId, string reason) =>
        transition.RunAsync(outbox =>
        {
            var run = Store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId} in {Store.Home.DatabasePath}");
            if (run.IsFinished) return false;
            machine.Finish(run, RunState.Cancelled, reason, outbox);
            outbox.Touch(runId);
            return true;
        });

    /// <summary>Marks a running or queued run Interrupted; its steps stay as they are for a later resume.</summary>
    public Task<bool> InterruptAsync(Guid runId) =>
        transition.RunAsync(outbox =>
        {
            var run = Store.Runs.FindById(runId) ?? throw new KeyNotFoundException($"no run {runId} in {Store.Home.DatabasePath}");
            if (run.State is not (RunState.Running or RunState.Queued)) return false;
            run.State = RunState.Interrupted;
            Store.Runs.Update(run);
            state.Active.Remove(runId);
            outbox.Touch(runId);
            return true;
        });

    /// <summary>Registers a dataset whose bytes are already complete in the artifact store.</summary>
    public void RecordDataset(DatasetRecord dataset)
    {
        lock (state.Gate) Store.InTransaction(() => Store.Datasets.Upsert(dataset));
    }
}
