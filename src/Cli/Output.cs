using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace PostTrain.Cli;

/// <summary>Console output: JSON for --json, tables otherwise (<see cref="Rendering.TextTable"/>), errors on stderr.</summary>
public static class Output
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes <paramref name="value"/> as JSON with real nested objects (see <see cref="Nest"/>).</summary>
    public static void WriteJson<T>(T value) => Console.Out.WriteLine(Nest(JsonSerializer.SerializeToNode(value, Json))?.ToJsonString(Json) ?? "null");

    /// <summary>
    /// The stores keep parameters, outputs and metrics as JSON text (<c>parametersJson</c>, <c>outputsJson</c>, …); a
    /// reader of <c>--json</c> wants objects. Every <c>xJson</c> string property that holds JSON becomes <c>x</c> with the
    /// parsed value, and any other string holding a JSON object becomes that object.
    /// </summary>
    public static JsonNode? Nest(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var text) && Parse(text, objectsOnly: !IsJsonName(key)) is { } parsed)
                    {
                        obj.Remove(key);
                        obj[IsJsonName(key) && !obj.ContainsKey(key[..^4]) ? key[..^4] : key] = Nest(parsed);
                    }
                    else Nest(value);
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue v && v.TryGetValue<string>(out var text) && Parse(text, objectsOnly: true) is { } parsed) array[i] = Nest(parsed);
                    else Nest(array[i]);
                }
                break;
        }
        return node;
    }

    private static bool IsJsonName(string key) => key.Length > 4 && key.EndsWith("Json", StringComparison.Ordinal);

    private static JsonNode? Parse(string text, bool objectsOnly)
    {
        var t = text.TrimStart();
        if (t.Length == 0 || (t[0] != '{' && (objectsOnly || t[0] != '['))) return null;
        try { return JsonNode.Parse(text); }
        catch (JsonException) { return null; }
    }

    public static int Error(string message, int code = CliApp.Failure)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }

    /// <summary>True when stdout is a terminal that can redraw (bars); false for pipes, files and CI logs.</summary>
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>True when stdout is a terminal: tables are drawn to its width; otherwise they are Markdown, one row per line.</summary>
    public static bool Terminal => !Console.IsOutputRedirected;

    public static string Escape(string? text) => Markup.Escape(text ?? "");
}
