namespace PostTrain.Engine.Contracts;

/// <summary>A worker began (or resumed from its cache) an attempt.</summary>
public sealed record ActivityStarted
{
    public Guid RunId { get; init; }
    public string StepPath { get; init; } = "";
    public int Attempt { get; init; }
    public string Worker { get; init; } = "";
    public DateTime At { get; init; }
}
