using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Workflows.Activities;

namespace PostTrain.Studio.Files;

/// <summary>
/// Writes a workflow definition the way the files in workflows/ are written: the engine's JSON options (web defaults),
/// 2-space indent, a trailing newline, and a fixed key order for the definition's own keys (the loader's order),
/// so a save from the designer changes only the lines that changed. Keys it does not know keep their order.
/// </summary>
public static class WorkflowFileFormatter
{
    private static readonly string[] TopOrder = ["$schema", "id", "version", "description", "parameters", "triggers", "activities", "connections", "outputs", "layout"];
    private static readonly string[] NodeOrder = ["id", "type", "description", "pool", "count", "items", "inputs", "body", "outputs", "retry"];
    private static readonly string[] ParameterOrder = ["type", "default", "min", "max", "description"];
    private static readonly string[] RetryOrder = ["maxAttempts", "backoffSeconds"];
    private static readonly string[] ConnectionOrder = ["from", "to"];
    private static readonly string[] ReferenceOrder = ["from", "fromPrevious", "initial", "param", "var", "literal"];

    // Indented by 2; relaxed escaping keeps apostrophes, '+' and non-ASCII text as people wrote them
    // (the default encoder would turn "it's" into "it\u0027s" and make every save a diff).
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        IndentSize = 2,
        IndentCharacter = ' ',
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Format(JsonNode root)
    {
        var ordered = Order(root.DeepClone(), Role.Top);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
            ordered?.WriteTo(writer, ActivityJson.Options);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()).ReplaceLineEndings("\n") + "\n";
    }

    private enum Role { Top, Node, Nodes, Parameters, Parameter, Retry, Connections, Connection, Values, Value, Other }

    private static JsonNode? Order(JsonNode? node, Role role)
    {
        switch (node)
        {
            case JsonArray arr:
            {
                var item = role switch { Role.Nodes => Role.Node, Role.Connections => Role.Connection, _ => Role.Other };
                var copy = new JsonArray();
                foreach (var e in arr.ToList())
                {
                    arr.Remove(e);
                    copy.Add(Order(e, item));
                }
                return copy;
            }
            case JsonObject obj:
            {
                var order = role switch
                {
                    Role.Top => TopOrder,
                    Role.Node => NodeOrder,
                    Role.Parameter => ParameterOrder,
                    Role.Retry => RetryOrder,
                    Role.Connection => ConnectionOrder,
                    Role.Value => ReferenceOrder,
                    _ => [],
                };
                var entries = obj.ToList();
                obj.Clear();
                var sorted = entries
                    .Select((kv, i) => (kv, rank: Array.IndexOf(order, kv.Key) is var r and >= 0 ? r : order.Length + i))
                    .OrderBy(x => x.rank).Select(x => x.kv);
                var copy = new JsonObject();
                foreach (var (key, value) in sorted) copy[key] = Order(value, ChildRole(role, key));
                return copy;
            }
            default:
                return node;
        }
    }

    private static Role ChildRole(Role parent, string key) => (parent, key) switch
    {
        (Role.Top, "activities") => Role.Nodes,
        (Role.Top, "parameters") => Role.Parameters,
        (Role.Top, "connections") => Role.Connections,
        (Role.Top, "outputs") => Role.Values,
        (Role.Parameters, _) => Role.Parameter,
        (Role.Node, "body") => Role.Nodes,
        (Role.Node, "retry") => Role.Retry,
        (Role.Node, "inputs" or "outputs") => Role.Values,
        (Role.Node, "count" or "items") => Role.Value,
        (Role.Values, _) => Role.Value,
        (Role.Value, "initial") => Role.Value,
        _ => Role.Other,
    };
}
