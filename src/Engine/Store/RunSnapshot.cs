namespace PostTrain.Engine.Store;

/// <summary>
/// A run as readers see it: the owner of the database writes one JSON file per run (atomically) on every change,
/// so <c>status</c> and <c>runs</c> never open the database another process is writing.
/// </summary>
public sealed record RunSnapshot
{
    public Guid Id { get; init; }
    public string WorkflowId { get; init; } = "";
    public int WorkflowVersion { get; init; }
    public string Source { get; init; } = "";
    public RunState State { get; init; }
    public string? Error { get; init; }
    public string ParametersJson { get; init; } = "{}";
    public string? OutputsJson { get; init; }
    public long Seed { get; init; }
    public string? Trigger { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public IReadOnlyList<StepSnapshot> Steps { get; init; } = [];
}
