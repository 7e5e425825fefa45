namespace PostTrain.Engine.Artifacts;

/// <summary>How the artifact transfer retries a failed request: exponential backoff with jitter, capped.</summary>
public sealed record ArtifactTransferRetry
{
    /// <summary>Retries after the first attempt of each request (default 6: about a minute of waiting in all; 0 = none).</summary>
    public int MaxRetries { get; init; } = 6;
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
}
