namespace PostTrain.Engine.Definitions;

/// <summary>An ordering edge with no data: <c>{"from":"a","to":"b"}</c> makes b wait for a. Both live in one scope.</summary>
public sealed record ConnectionDefinition
{
    public required string From { get; init; }
    public required string To { get; init; }
    public string Path { get; init; } = "$";
}
