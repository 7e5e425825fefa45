using System.Text.Json.Nodes;

namespace PostTrain.Engine.Definitions;

/// <summary>A workflow parameter: <c>"rounds": {"type":"int","default":6,"min":1,"max":20}</c>.</summary>
public sealed record ParameterDefinition
{
    public required string Name { get; init; }
    /// <summary>A port type (<see cref="PortTypes"/>): int, number, string, bool, artifact, json, or T[].</summary>
    public string Type { get; init; } = PortTypes.Json;
    public JsonNode? Default { get; init; }
    public bool HasDefault { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public string Description { get; init; } = "";
    public string Path { get; init; } = "$";
}
