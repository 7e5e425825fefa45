using System.Text.Json.Nodes;

namespace PostTrain.Engine.Activities;

/// <summary>One input or output of an activity, as read from its code.</summary>
public sealed record PortDescriptor
{
    /// <summary>camelCase name used in definitions.</summary>
    public required string Name { get; init; }
    /// <summary>Port type: int, number, string, bool, artifact, json or T[].</summary>
    public required string Type { get; init; }
    public string Description { get; init; } = "";
    public bool Required { get; init; }
    public JsonNode? Default { get; init; }
    /// <summary>Allowed values for enum-typed inputs.</summary>
    public IReadOnlyList<string>? Allowed { get; init; }
}
