using PostTrain.Engine.Contracts;

namespace PostTrain.Engine.Store;

/// <summary>Finished work keyed by (activity type, resolved inputs, seed): outputs plus what the step registered.</summary>
public sealed class StepCacheEntry
{
    public string Id { get; set; } = "";
    public string ActivityType { get; set; } = "";
    public string OutputsJson { get; set; } = "{}";
    public List<MetricValue> Metrics { get; set; } = [];
    public List<CheckpointRegistration> Checkpoints { get; set; } = [];
    public DateTime At { get; set; }
}
