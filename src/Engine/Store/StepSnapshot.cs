namespace PostTrain.Engine.Store;

/// <summary>One step in a <see cref="RunSnapshot"/>, with the latest heartbeat's progress.</summary>
public sealed record StepSnapshot
{
    public string Path { get; init; } = "";
    public string ActivityType { get; init; } = "";
    public string Pool { get; init; } = "";
    public StepState State { get; init; }
    public int Attempt { get; init; }
    public int Failures { get; init; }
    public bool FromCache { get; init; }
    public double Progress { get; init; }
    public string Message { get; init; } = "";
    public string? Error { get; init; }
    public string? OutputsJson { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    /// <summary>The worker that started the current attempt (machine:pid), null until one has.</summary>
    public string? Worker { get; init; }
}
