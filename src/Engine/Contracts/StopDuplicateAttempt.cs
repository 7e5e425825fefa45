namespace PostTrain.Engine.Contracts;

/// <summary>
/// Published by the engine when a second worker starts an attempt another worker already runs (a copy of a command
/// the engine sent again because its acknowledgement came late): the named worker stops its copy and reports nothing.
/// </summary>
public sealed record StopDuplicateAttempt
{
    public Guid RunId { get; init; }
    public string StepPath { get; init; } = "";
    public int Attempt { get; init; }
    /// <summary>The worker that is to stop (WorkerOptions.Name).</summary>
    public string Worker { get; init; } = "";
    /// <summary>The worker that keeps the attempt.</summary>
    public string RunningOn { get; init; } = "";
    public DateTime At { get; init; }
}
