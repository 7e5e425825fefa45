namespace PostTrain.Engine.Runtime;

/// <summary>A run cannot proceed: a value resolved at run time does not fit (e.g. a repeat count that is not an integer).</summary>
public sealed class PlanException(string message) : Exception(message);
