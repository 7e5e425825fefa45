using PostTrain.Engine.Store;

namespace PostTrain.Studio.Api;

/// <summary>
/// A run as the owner's database holds it (GET /api/runs/{id}/records): what a client needs to print round rows as
/// they end and to build the quality report itself, exactly as the local path does.
/// </summary>
public sealed record RunRecords(RunRecord Run, IReadOnlyList<StepRecord> Steps, IReadOnlyList<MetricRecord> Metrics, IReadOnlyList<RoundRecord> Rounds);
