using System.Text.Json.Nodes;

namespace PostTrain.Engine.Runtime;

/// <summary>What a run can do next: steps to create, whether everything is done, and the run's outputs then.</summary>
public sealed record RunPlan(IReadOnlyList<ReadyStep> Ready, bool Complete, JsonObject? Outputs, IReadOnlyList<RoundStatus> Rounds);
