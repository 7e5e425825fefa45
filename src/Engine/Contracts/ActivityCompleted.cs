namespace PostTrain.Engine.Contracts;

/// <summary>An attempt finished: its outputs, and the metrics and checkpoints it registered (the engine persists them).</summary>
public sealed record ActivityCompleted
{
    public Guid RunId { get; init; }
    public string StepPath { get; init; } = "";
    public int Attempt { get; init; }
    public string CacheKey { get; init; } = "";
    public string OutputsJson { get; init; } = "{}";
    public IReadOnlyList<MetricValue> Metrics { get; init; } = [];
    public IReadOnlyList<CheckpointRegistration> Checkpoints { get; init; } = [];
    /// <summary>True when the worker found the outputs in the step cache instead of running the activity.</summary>
    public bool FromCache { get; init; }
    public DateTime At { get; init; }
}
