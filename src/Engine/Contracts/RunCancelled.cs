namespace PostTrain.Engine.Contracts;

/// <summary>Published by the engine when a run is cancelled; workers stop that run's activities.</summary>
public sealed record RunCancelled
{
    public Guid RunId { get; init; }
    public DateTime At { get; init; }
}
