namespace PostTrain.Studio.Api;

/// <summary>A metric an activity recorded, with the step (and node) and round it came from.</summary>
public sealed record MetricView(string StepPath, string NodeId, int? Round, string Name, double Value, long? Step, DateTime At);
