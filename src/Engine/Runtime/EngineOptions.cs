namespace PostTrain.Engine.Runtime;

/// <summary>Timing of the engine and workers. Defaults suit real runs; tests shrink them.</summary>
public sealed record EngineOptions
{
    /// <summary>A running step with no heartbeat for this long is lost and re-dispatched (default 60 s).</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// A dispatched step that no worker has started (no <c>ActivityStarted</c>) is treated as a failed attempt once it
    /// has waited this long while its pool showed no activity at all (default 10 min). Time spent queued behind a busy
    /// slot does not count: a busy slot sends heartbeats. Keep it well above <see cref="HeartbeatInterval"/>.
    /// </summary>
    public TimeSpan DispatchTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// A dispatch is pending until a worker acknowledges its attempt (<c>ActivityStarted</c> or a heartbeat). When no
    /// acknowledgement came for this long after the command was sent, while its pool showed no activity (or the send
    /// itself failed), the same command (same attempt) is sent again: a command the broker dropped in a restart costs
    /// this wait, not <see cref="DispatchTimeout"/>. Each further re-send waits twice as long, up to
    /// <see cref="MaxDispatchAckTimeout"/>. A worker drops a copy of an attempt it already runs (default 20 s).
    /// </summary>
    public TimeSpan DispatchAckTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Upper bound of the wait between re-sends of an unacknowledged command (default 5 min).</summary>
    public TimeSpan MaxDispatchAckTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How often a worker sends a heartbeat for each running activity (default 10 s).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How often the scheduler checks retries, lost steps and control requests (default 1 s).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Executions of a step before the run fails, unless the definition says otherwise (default 3).</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>First retry delay; the n-th retry waits backoff * 2^(n-1) (default 5 s).</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Upper bound of a retry delay (default 10 min).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// On start, re-dispatch steps that were running: right for the in-memory bus, whose workers died with the
    /// process. With RabbitMQ, remote workers may still run them; their heartbeats decide (default true).
    /// </summary>
    public bool RedispatchRunningOnStart { get; init; } = true;
}
