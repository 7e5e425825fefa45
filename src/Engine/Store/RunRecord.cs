namespace PostTrain.Engine.Store;

/// <summary>One run of a workflow definition version with bound parameters and a seed.</summary>
public sealed class RunRecord
{
    public Guid Id { get; set; }
    public string WorkflowId { get; set; } = "";
    public int WorkflowVersion { get; set; }
    public string DefinitionHash { get; set; } = "";
    public string DefinitionSource { get; set; } = "";
    public string ParametersJson { get; set; } = "{}";
    public long Seed { get; set; }
    public RunState State { get; set; }
    public string? Trigger { get; set; }
    public string? OutputsJson { get; set; }
    public string? Error { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }

    public bool IsFinished => State is RunState.Succeeded or RunState.Failed or RunState.Cancelled;
}
