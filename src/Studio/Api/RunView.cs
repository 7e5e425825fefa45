using System.Text.Json.Nodes;

namespace PostTrain.Studio.Api;

/// <summary>A run with its steps and the definition it ran. State: queued, running, succeeded, failed, cancelled.</summary>
public sealed record RunView(
    Guid Id, string Workflow, string State, DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, string? Error,
    JsonNode? Parameters, JsonNode? Outputs, long Seed, string? Trigger, string DefinitionJson, IReadOnlyList<StepView> Steps);
