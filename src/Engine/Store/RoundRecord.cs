namespace PostTrain.Engine.Store;

/// <summary>One round of a repeat container in a run.</summary>
public sealed class RoundRecord
{
    /// <summary><c>{runId:N}:{repeatPath}[{index}]</c>.</summary>
    public string Id { get; set; } = "";
    public Guid RunId { get; set; }
    public string Container { get; set; } = "";
    public int Index { get; set; }
    public bool Completed { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
}
