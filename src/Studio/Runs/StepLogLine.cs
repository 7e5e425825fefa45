namespace PostTrain.Studio.Runs;

/// <summary>One line of a step's log in the run monitor.</summary>
public sealed record StepLogLine(DateTime At, string Level, string Message);
