namespace PostTrain.Engine.Runtime;

/// <summary>A repeat round the planner reached: <see cref="Container"/> is the repeat's path prefix, e.g. <c>rounds</c>.</summary>
public sealed record RoundStatus(string Container, int Index, bool Completed);
