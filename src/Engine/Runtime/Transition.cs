using Microsoft.Extensions.Logging;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// The one way state changes: under the engine's lock, the change runs in one LiteDB transaction (all its writes
/// land, or none); the snapshots of the runs it touched are written after the commit; only then, outside the lock,
/// its messages are sent and listeners told. No bus I/O ever happens under the lock.
/// </summary>
internal sealed class Transition(EngineState state, RunSnapshots snapshots, IEngineBus bus, Func<Action<RunSnapshot>?> listeners)
{
    /// <summary>Runs <paramref name="change"/> as one transaction and flushes its outbox.</summary>
    public Task<T> RunAsync<T>(Func<Outbox, T> change) => RunAsync(change, transaction: true);

    public Task RunAsync(Action<Outbox> change) => RunAsync(o => { change(o); return 0; }, transaction: true);

    /// <summary>
    /// For a change that commits several transactions itself (the watchdog: one per run, so one bad run cannot
    /// roll back another's transitions).
    /// </summary>
    public Task RunEachAsync(Action<Outbox> change) => RunAsync(o => { change(o); return 0; }, transaction: false);

    private async Task<T> RunAsync<T>(Func<Outbox, T> change, bool transaction)
    {
        var outbox = new Outbox();
        T result;
        lock (state.Gate)
        {
            result = transaction ? state.Store.InTransaction(() => change(outbox)) : change(outbox);
            foreach (var runId in outbox.Touched) snapshots.Capture(runId, outbox);
        }
        await FlushAsync(outbox).ConfigureAwait(false);
        return result;
    }

    // Transitions flush concurrently and a send can block for seconds (a broker restarting), so an earlier
    // transition's snapshot may reach this point after a later one's. Listeners keep the latest state they were told
    // (the CLI waits for its runs to leave Running), so a snapshot older than one already delivered is dropped.
    private readonly object _delivery = new();
    private readonly Dictionary<Guid, long> _delivered = [];

    private void Notify(Outbox outbox)
    {
        if (listeners() is not { } changed) return;
        lock (_delivery)
            foreach (var (s, sequence) in outbox.Changed)
            {
                if (_delivered.TryGetValue(s.Id, out var last) && last > sequence) continue;
                _delivered[s.Id] = sequence;
                foreach (var handler in changed.GetInvocationList().Cast<Action<RunSnapshot>>())
                {
                    try { handler(s); }
                    catch (Exception e) { state.Log.LogError(e, "a RunChanged handler failed for run {Run}", s.Id); }
                }
            }
    }

    /// <summary>
    /// Sends, publishes and notifies after a transition has committed. Nothing may escape before the end: waiters
    /// were already taken off the waiting list by <see cref="RunSnapshots.Capture"/>, so a skipped completion would
    /// leave them waiting for a run that has finished. Every failure, cancellation included, is logged per message.
    /// </summary>
    private async Task FlushAsync(Outbox outbox)
    {
        var log = state.Log;
        try
        {
            foreach (var cmd in outbox.Sends)
            {
                try
                {
                    await bus.SendAsync(cmd).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // The dispatch stays pending: the watchdog sends the same attempt again after the ack timeout.
                    log.LogError(e, "could not send {Type} for {Path} to pool {Pool}; it is sent again after the dispatch ack timeout", cmd.ActivityType, cmd.StepPath, cmd.Pool);
                    lock (state.Gate)
                    {
                        var id = StepRecord.MakeId(cmd.RunId, cmd.StepPath);
                        if (state.Sends.TryGetValue(id, out var sends) && sends.Attempt == cmd.Attempt) state.Sends[id] = sends with { Failed = true };
                    }
                }
            }
            foreach (var m in outbox.Publishes)
            {
                try { await bus.PublishAsync(m).ConfigureAwait(false); }
                catch (Exception e) { log.LogError(e, "could not publish {Type}", m.GetType().Name); }
            }
            Notify(outbox);
        }
        finally
        {
            foreach (var (tcs, snap) in outbox.Finished) tcs.TrySetResult(snap);
        }
    }
}
