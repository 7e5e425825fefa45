namespace PostTrain.Engine.Contracts;

/// <summary>Asks the host to cancel a run.</summary>
public sealed record CancelRun
{
    public Guid RunId { get; init; }
    public string Reason { get; init; } = "cancelled by user";
}
