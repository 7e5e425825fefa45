using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Engine.Definitions;

namespace PostTrain.Engine.Validation;

/// <summary>Turns <c>--param k=v</c> strings and defaults into a checked parameter object for a run.</summary>
public static class ParameterBinder
{
    /// <summary>Null when <paramref name="value"/> fits the parameter's type and range, otherwise the reason.</summary>
    public static string? Check(ParameterDefinition p, JsonNode? value)
    {
        if (PortTypes.Check(value, p.Type) is { } e) return $"parameter '{p.Name}': {e}";
        if (p.Type is PortTypes.Int or PortTypes.Number && value is JsonValue v && v.TryGetValue<double>(out var d))
        {
            if (p.Min is { } min && d < min) return $"parameter '{p.Name}' = {d} is below min {min}";
            if (p.Max is { } max && d > max) return $"parameter '{p.Name}' = {d} is above max {max}";
        }
        return null;
    }

    /// <summary>Binds raw values (JSON text, or bare strings) over the defaults; every problem is returned, none thrown.</summary>
    public static (JsonObject Values, IReadOnlyList<string> Errors) Bind(WorkflowDefinition def, IReadOnlyDictionary<string, string> raw)
    {
        var errors = new List<string>();
        var values = new JsonObject();
        foreach (var (name, text) in raw)
        {
            if (!def.Parameters.TryGetValue(name, out var p))
            {
                errors.Add($"--param {name}={text}: {def.Source} has no parameter '{name}'; parameters: {(def.Parameters.Count == 0 ? "none" : string.Join(", ", def.Parameters.Keys))}");
                continue;
            }
            var node = ParseValue(text, p.Type);
            if (Check(p, node) is { } e) errors.Add($"--param {name}={text}: {e}");
            else values[name] = node;
        }
        foreach (var p in def.Parameters.Values)
        {
            if (values.ContainsKey(p.Name) || raw.ContainsKey(p.Name)) continue;
            if (p.HasDefault) values[p.Name] = p.Default?.DeepClone();
            else errors.Add($"parameter '{p.Name}' ({p.Type}) has no default; pass --param {p.Name}=VALUE");
        }
        return (values, errors);
    }

    public static JsonNode? ParseValue(string text, string type)
    {
        if (type is PortTypes.String or PortTypes.Artifact) return JsonValue.Create(text);
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
