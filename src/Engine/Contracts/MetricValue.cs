namespace PostTrain.Engine.Contracts;

/// <summary>One scalar metric an activity recorded, e.g. <c>("win_rate", 0.62)</c>.</summary>
public sealed record MetricValue
{
    public string Name { get; init; } = "";
    public double Value { get; init; }
    public long? Step { get; init; }
}
