namespace PostTrain.Engine.Contracts;

/// <summary>Heartbeat with the latest progress; a step whose heartbeats stop is re-dispatched by the engine.</summary>
public sealed record ActivityProgress
{
    public Guid RunId { get; init; }
    public string StepPath { get; init; } = "";
    public int Attempt { get; init; }
    public double Fraction { get; init; }
    public string Message { get; init; } = "";
    public DateTime At { get; init; }
}
