using System.Globalization;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// The engine's clock: dispatches retries that are due, treats running steps without heartbeats as lost, and
/// dispatched steps that no worker started while their pool was idle as lost commands.
/// </summary>
internal sealed class Watchdog(EngineState state, RunMachine machine, Transition transition)
{
    public Task TickAsync() =>
        transition.RunEachAsync(outbox =>
        {
            var store = state.Store;
            var now = state.Now;
            // Read once: the pool pass below needs every run's steps before any run's steps are handled.
            var running = store.Runs.Find(r => r.State == RunState.Running).Select(r => (Run: r, Steps: store.StepsOf(r.Id))).ToList();
            // A pool with a running step (of any run) has a taken slot: steps queued behind it are not lost.
            foreach (var (_, steps) in running)
                foreach (var step in steps)
                    if (step.State == StepState.Running) state.PoolActive[step.Pool] = now;
            foreach (var (run, steps) in running)
            {
                var changed = false;
                store.InTransaction(() =>
                {
                    foreach (var step in steps)
                    {
                        if (run.State != RunState.Running) break;
                        changed |= Check(run, step, now, outbox);
                    }
                });
                if (changed) outbox.Touch(run.Id);
            }
        });

    /// <summary>Handles one step of a running run; true if it changed.</summary>
    private bool Check(RunRecord run, StepRecord step, DateTime now, Outbox outbox)
    {
        if (step.State == StepState.Retrying && step.NextAttemptAt <= now)
        {
            machine.Dispatch(run, step, outbox);
            return true;
        }
        if (step.State == StepState.Running)
        {
            var seen = state.LastSeen.TryGetValue(step.Id, out var t) ? t : (state.LastSeen[step.Id] = now);
            if (now - seen <= state.Options.HeartbeatTimeout) return false;
            state.Log.LogWarning("step {Path} of run {Run} lost: no heartbeat for {Elapsed}", step.Path, run.Id, Seconds(now - seen));
            machine.RegisterFailure(run, step, $"lost: no heartbeat for {Seconds(now - seen)} (worker stopped or died)", outbox);
            return true;
        }
        if (step.State == StepState.Dispatched)
        {
            // A dispatched step waits for a worker's ActivityStarted, legitimately for long while every slot of its
            // pool is taken: the worker holds the command up to SlotWait, then puts it back at the end of the queue,
            // and no message reaches the engine meanwhile. But a taken slot shows: the clock restarts whenever a step
            // of the pool is running here, or any worker of the pool reports anything, even about a stale attempt
            // (PoolActive). Only a pool idle for DispatchTimeout since the dispatch means the command is gone:
            // AcceptAsync threw (the delivery went to the error queue) or no worker serves the pool. That counts as a
            // failed attempt, like a lost heartbeat: the retry is a new attempt with the usual backoff and limit, so a
            // pool nobody serves ends the run with this error instead of waiting forever. (Re-sending the same attempt
            // could run it twice under one key in a worker, which tracks its work by (run, path, attempt).) Should the
            // old command still be delivered, running it is harmless: outputs are a function of the cache key, a
            // completion of any attempt is accepted, and other reports about a stale attempt are ignored. A command
            // lost in a pool that stays busy with other work is noticed once the pool goes idle.
            var since = state.LastSeen.TryGetValue(step.Id, out var t) ? t : (state.LastSeen[step.Id] = now);
            var poolActive = state.PoolActive.TryGetValue(step.Pool, out var active) ? active : DateTime.MinValue;
            if (poolActive > since) since = poolActive;
            if (now - since <= state.Options.DispatchTimeout)
            {
                Resend(run, step, now, poolActive, outbox);
                return false;
            }
            state.Log.LogWarning("step {Path} of run {Run} never started: pool {Pool} idle for {Elapsed} since it was dispatched", step.Path, run.Id, step.Pool, Seconds(now - since));
            machine.RegisterFailure(run, step, $"not started: no worker of pool '{step.Pool}' took it; the pool was idle for {Seconds(now - since)} (command lost, or no worker serves the pool)", outbox);
            return true;
        }
        return false;
    }

    /// <summary>
    /// A dispatch is pending until a worker acknowledges the attempt. The broker may drop a command without the send
    /// failing (a restart between the publish and the queue's write to disk), and a send may fail outright: either
    /// way no worker will ever start it, so after <see cref="EngineOptions.DispatchAckTimeout"/> without an
    /// acknowledgement the same attempt is sent again, each time waiting twice as long (at most
    /// <see cref="EngineOptions.MaxDispatchAckTimeout"/>). As for the dispatch timeout, a pool seen busy restarts the
    /// clock (the command may rightly wait for a slot), unless the last send failed. A worker that already runs the
    /// attempt drops the copy; one that finished it reports its result again; so a copy is never a second run there.
    /// A copy that another worker starts is stopped when its ActivityStarted arrives (WorkerReports, StopDuplicateAttempt).
    /// </summary>
    private void Resend(RunRecord run, StepRecord step, DateTime now, DateTime poolActive, Outbox outbox)
    {
        if (!state.Sends.TryGetValue(step.Id, out var sends) || sends.Attempt != step.Attempt)
            sends = state.Sends[step.Id] = new EngineState.DispatchSends(step.Attempt, 1, state.LastSeen[step.Id], Failed: false);
        var since = !sends.Failed && poolActive > sends.At ? poolActive : sends.At;
        var wait = EngineTime.Backoff(state.Options.DispatchAckTimeout.TotalSeconds, sends.Count, state.Options.MaxDispatchAckTimeout);
        if (now - since <= wait) return;
        state.Log.LogWarning("step {Path} of run {Run}: no worker acknowledged attempt {Attempt} in {Elapsed}{Failed}; sending it again", step.Path, run.Id, step.Attempt, Seconds(now - since), sends.Failed ? " (the last send failed)" : "");
        machine.Resend(run, step, outbox);
    }

    /// <summary>"0.45s" below ten seconds (test timeouts are sub-second), "61s" above.</summary>
    private static string Seconds(TimeSpan t) =>
        t < TimeSpan.FromSeconds(10) ? t.TotalSeconds.ToString("0.0##", CultureInfo.InvariantCulture) + "s" : t.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture) + "s";
}
