using System.Text.Json.Nodes;

namespace PostTrain.Engine.Definitions;

/// <summary>
/// One input value in a definition: a literal, or a reference resolved when the step becomes ready.
/// <see cref="Path"/> is the JSON path of the value, used in every error about it.
/// </summary>
public sealed record InputValue
{
    public required InputKind Kind { get; init; }
    public JsonNode? Literal { get; init; }
    /// <summary>Parameter name or variable path for <see cref="InputKind.Param"/> and <see cref="InputKind.Var"/>.</summary>
    public string? Name { get; init; }
    /// <summary>Activity id for <see cref="InputKind.From"/> and <see cref="InputKind.FromPrevious"/>.</summary>
    public string? Activity { get; init; }
    /// <summary>Output name (after the dot) for <see cref="InputKind.From"/> and <see cref="InputKind.FromPrevious"/>.</summary>
    public string? Output { get; init; }
    /// <summary>Round 0's value of a <see cref="InputKind.FromPrevious"/> reference.</summary>
    public InputValue? Initial { get; init; }
    public string Path { get; init; } = "$";

    public static InputValue Of(JsonNode? literal, string path = "$") => new() { Kind = InputKind.Literal, Literal = literal, Path = path };

    public override string ToString() => Kind switch
    {
        InputKind.Literal => Literal?.ToJsonString() ?? "null",
        InputKind.Param => $"{{\"param\":\"{Name}\"}}",
        InputKind.From => $"{{\"from\":\"{Activity}.{Output}\"}}",
        InputKind.FromPrevious => $"{{\"fromPrevious\":\"{Activity}.{Output}\"}}",
        _ => $"{{\"var\":\"{Name}\"}}",
    };
}
