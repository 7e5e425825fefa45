namespace PostTrain.Engine.Store;

/// <summary>A checkpoint in the artifact store and its lineage (round, sampler, parent, reward model).</summary>
public sealed class CheckpointRecord
{
    /// <summary>The artifact reference, <c>sha256:...</c>.</summary>
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? Name { get; set; }
    public Guid RunId { get; set; }
    public string StepPath { get; set; } = "";
    public int? Round { get; set; }
    public string? Sampler { get; set; }
    public string? Parent { get; set; }
    public string? RewardModel { get; set; }
    public DateTime At { get; set; }
}
