namespace PostTrain.Engine.Contracts;

/// <summary>An attempt failed (or was cancelled); the engine retries with backoff or fails the run.</summary>
public sealed record ActivityFaulted
{
    public Guid RunId { get; init; }
    public string StepPath { get; init; } = "";
    public int Attempt { get; init; }
    public string ExceptionType { get; init; } = "";
    public string Error { get; init; } = "";
    public bool Cancelled { get; init; }
    /// <summary>The inputs themselves are wrong (an <see cref="ArgumentException"/>): retrying cannot help.</summary>
    public bool Permanent { get; init; }
    public DateTime At { get; init; }
}
