namespace PostTrain.Engine.Definitions;

/// <summary>Per-activity retry: <c>"retry": {"maxAttempts": 3, "backoffSeconds": 5}</c>. Backoff doubles each failure.</summary>
public sealed record RetryPolicy
{
    /// <summary>Executions allowed before the run fails (1 = no retry).</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>Delay before the second attempt; the n-th retry waits backoff * 2^(n-1).</summary>
    public double BackoffSeconds { get; init; } = 5;
}
