namespace PostTrain.Studio.Api;

/// <summary>
/// A checkpoint and its lineage. <see cref="Selected"/>: registered with kind "selected", or output by a selection step of its run (an activity whose type starts
/// with "Select"): it became the next round's sampler.
/// </summary>
public sealed record CheckpointView(
    string Artifact, string Kind, string? Name, Guid RunId, string StepPath, int? Round, string? Sampler, string? Parent,
    string? RewardModel, bool Selected, DateTime At);
