using PostTrain.Studio.Runs;

namespace PostTrain.Studio.Api;

/// <summary>One step of a run as the monitor shows it. State: pending, dispatched, running, done, failed, retrying, cancelled.</summary>
public sealed record StepView(
    string Path, string NodeId, string ActivityType, string State, int Attempt, int Failures, string? Worker,
    double? Progress, string? Message, int? Round, DateTime? StartedAt, DateTime? FinishedAt, string? Error, bool FromCache,
    string? OutputsJson, IReadOnlyList<StepLogLine> Logs);
