namespace PostTrain.Engine.Contracts;

/// <summary>A checkpoint artifact and its lineage: which round made it, from which sampler and parent, scored by which reward model.</summary>
public sealed record CheckpointRegistration
{
    /// <summary>Artifact reference (<c>sha256:...</c>) of the checkpoint directory.</summary>
    public string Artifact { get; init; } = "";
    /// <summary>policy, reward-model, sft, dpo, pretrain...</summary>
    public string Kind { get; init; } = "policy";
    public int? Round { get; init; }
    public string? Sampler { get; init; }
    public string? Parent { get; init; }
    public string? RewardModel { get; init; }
    public string? Name { get; init; }
}
