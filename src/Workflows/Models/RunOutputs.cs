using System.Text.Json.Nodes;

namespace PostTrain.Workflows.Models;

/// <summary>Where a finished run says its final model is.</summary>
public static class RunOutputs
{
    /// <summary>
    /// The run's final checkpoint reference: its <c>checkpoint</c> output (a one-activity training workflow), else the last
    /// of its <c>best</c> outputs (iterate: the sampler the last round selected); null when it has neither.
    /// </summary>
    public static string? FinalCheckpoint(string? outputsJson)
    {
        if (string.IsNullOrWhiteSpace(outputsJson) || JsonNode.Parse(outputsJson) is not JsonObject outputs) return null;
        foreach (var key in new[] { "checkpoint", "best" })
        {
            var value = outputs[key];
            while (value is JsonArray list) value = list.LastOrDefault(v => v is not null);
            if (value is JsonValue v && v.TryGetValue<string>(out var text) && text.StartsWith(PostTrain.Engine.Store.ArtifactRef.Prefix, StringComparison.Ordinal)) return text;
        }
        return null;
    }
}
