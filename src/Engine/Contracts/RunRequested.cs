namespace PostTrain.Engine.Contracts;

/// <summary>Asks the host (the process that owns the store) to start a run; used when the CLI is not that process.</summary>
public sealed record RunRequested
{
    public Guid RunId { get; init; }
    /// <summary>Path of the workflow file or the id of a workflow the host knows.</summary>
    public string Workflow { get; init; } = "";
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public long Seed { get; init; }
}
