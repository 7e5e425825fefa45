namespace PostTrain.Engine.Contracts;

/// <summary>Published by the engine when a run reaches Succeeded, Failed or Cancelled.</summary>
public sealed record RunFinished
{
    public Guid RunId { get; init; }
    public string WorkflowId { get; init; } = "";
    public string State { get; init; } = "";
    public string? Error { get; init; }
    public DateTime At { get; init; }
}
