using System.Text.Json.Nodes;
using System.Text.Json;

namespace PostTrain.Engine.Definitions;

/// <summary>
/// The small type system of inputs, outputs and parameters: <c>int</c>, <c>number</c>, <c>string</c>, <c>bool</c>,
/// <c>artifact</c> (a content hash in the artifact store), <c>json</c> (anything) and lists <c>T[]</c>.
/// </summary>
public static class PortTypes
{
    public const string Int = "int";
    public const string Number = "number";
    public const string String = "string";
    public const string Bool = "bool";
    public const string Artifact = "artifact";
    public const string Json = "json";

    public static bool IsKnown(string type) => type.EndsWith("[]", StringComparison.Ordinal)
        ? IsKnown(type[..^2])
        : type is Int or Number or String or Bool or Artifact or Json;

    public static string ListOf(string element) => element + "[]";

    public static string? ElementOf(string type) => type.EndsWith("[]", StringComparison.Ordinal) ? type[..^2] : type == Json ? Json : null;

    /// <summary>Can a value of type <paramref name="from"/> feed a port of type <paramref name="to"/>?</summary>
    public static bool IsAssignable(string from, string to)
    {
        if (from == to || to == Json || from == Json) return true;
        if (from == Int && to == Number) return true;
        // An artifact is written as its hash string; a literal hash may feed an artifact input.
        if (from == String && to == Artifact) return true;
        var fe = ElementOf(from);
        var te = ElementOf(to);
        return fe is not null && te is not null && from.EndsWith("[]", StringComparison.Ordinal) && to.EndsWith("[]", StringComparison.Ordinal) && IsAssignable(fe, te);
    }

    /// <summary>The type of a literal JSON value (lists take their first element's type; an empty list is json[]).</summary>
    public static string Of(JsonNode? value) => value switch
    {
        null => Json,
        JsonArray a => ListOf(a.Count == 0 ? Json : Of(a[0])),
        JsonObject => Json,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => String,
            JsonValueKind.True or JsonValueKind.False => Bool,
            JsonValueKind.Number => IsInteger(v) ? Int : Number,
            _ => Json,
        },
        _ => Json,
    };

    /// <summary>Null when <paramref name="value"/> fits <paramref name="type"/>, otherwise the reason.</summary>
    public static string? Check(JsonNode? value, string type)
    {
        if (type == Json) return null;
        if (value is null) return $"expected {type}, got null";
        if (type.EndsWith("[]", StringComparison.Ordinal))
        {
            if (value is not JsonArray arr) return $"expected {type}, got {Of(value)}";
            for (var i = 0; i < arr.Count; i++)
                if (Check(arr[i], type[..^2]) is { } e) return $"element [{i}]: {e}";
            return null;
        }
        var actual = Of(value);
        return IsAssignable(actual, type) ? null : $"expected {type}, got {actual} {value.ToJsonString()}";
    }

    /// <summary>The port type of a CLR property type.</summary>
    public static string FromClr(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(int) || t == typeof(long) || t == typeof(short)) return Int;
        if (t == typeof(double) || t == typeof(float) || t == typeof(decimal)) return Number;
        if (t == typeof(string) || t.IsEnum) return String;
        if (t == typeof(bool)) return Bool;
        if (t == typeof(Store.ArtifactRef)) return Artifact;
        if (t.IsArray) return ListOf(FromClr(t.GetElementType()!));
        if (t.IsGenericType && t.GetGenericArguments().Length == 1 && typeof(System.Collections.IEnumerable).IsAssignableFrom(t))
            return ListOf(FromClr(t.GetGenericArguments()[0]));
        return Json;
    }

    private static bool IsInteger(JsonValue v) => v.TryGetValue<long>(out _) || v.TryGetValue<int>(out _);
}
