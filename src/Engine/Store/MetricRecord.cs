namespace PostTrain.Engine.Store;

/// <summary>A scalar an activity recorded, with the run, step and round it belongs to.</summary>
public sealed class MetricRecord
{
    public int Id { get; set; }
    public Guid RunId { get; set; }
    public string StepPath { get; set; } = "";
    public int? Round { get; set; }
    public string Name { get; set; } = "";
    public double Value { get; set; }
    public long? Step { get; set; }
    public DateTime At { get; set; }
}
