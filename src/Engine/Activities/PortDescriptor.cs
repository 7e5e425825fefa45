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
    /// <summary>Bounds of a numeric input (<see cref="InputAttribute.Min"/>/<see cref="InputAttribute.Max"/>, or a <c>[Range]</c>).</summary>
    public double? Min { get; init; }
    public double? Max { get; init; }

    /// <summary>Why <paramref name="value"/> is outside this port's bounds, or null if it is inside.</summary>
    public string? OutOfRange(double value) =>
        double.IsNaN(value) && (Min is not null || Max is not null) ? $"{Name} is NaN; expected a number{Bounds()}"
        : value < Min ? $"{Name} is {Show(value)}, below its minimum {Show(Min.Value)}"
        : value > Max ? $"{Name} is {Show(value)}, above its maximum {Show(Max.Value)}"
        : null;

    private string Bounds() => $" in [{(Min is { } a ? Show(a) : "-inf")}, {(Max is { } b ? Show(b) : "inf")}]";

    private static string Show(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
