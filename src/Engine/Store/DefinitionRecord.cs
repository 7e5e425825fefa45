namespace PostTrain.Engine.Store;

/// <summary>A definition version as a run used it; runs keep the JSON so resume does not depend on the file.</summary>
public sealed class DefinitionRecord
{
    /// <summary><c>{workflowId}@{version}#{hash[..12]}</c>.</summary>
    public string Id { get; set; } = "";
    public string WorkflowId { get; set; } = "";
    public int Version { get; set; }
    public string Hash { get; set; } = "";
    public string Source { get; set; } = "";
    public string Json { get; set; } = "";
    public DateTime At { get; set; }
}
