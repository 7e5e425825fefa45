using System.Text.Json;
using System.Text.Json.Nodes;

namespace PostTrain.Engine.Definitions;

/// <summary>
/// Reads a workflow JSON file into a <see cref="WorkflowDefinition"/>, collecting every structural problem with its
/// JSON path instead of stopping at the first. Semantic checks (types, references, cycles) are in
/// <see cref="Validation.WorkflowValidator"/>.
/// <code>
/// {
///   "id": "iterate", "version": 1, "description": "...",
///   "parameters": { "rounds": { "type": "int", "default": 6, "min": 1, "max": 20 } },
///   "triggers": [ "PreferenceDataArrived" ],
///   "activities": [
///     { "id": "a", "type": "Add", "inputs": { "x": 1, "y": { "param": "rounds" } } },
///     { "id": "loop", "type": "repeat", "count": { "param": "rounds" },
///       "body": [ { "id": "b", "type": "Add", "inputs": { "x": { "fromPrevious": "b.sum", "initial": { "from": "a.sum" } }, "y": { "var": "round" } } } ],
///       "outputs": { "last": { "from": "b.sum" } } },
///     { "id": "fan", "type": "forEach", "items": [1, 2, 3],
///       "body": [ { "id": "c", "type": "Add", "inputs": { "x": { "var": "item" }, "y": { "from": "loop.last" } } } ],
///       "outputs": { "sums": { "from": "c.sum" } } }
///   ],
///   "connections": [ { "from": "a", "to": "fan" } ],
///   "outputs": { "sums": { "from": "fan.sums" } }
/// }
/// </code>
/// </summary>
public static class WorkflowLoader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly HashSet<string> TopLevelKeys = ["$schema", "id", "version", "description", "parameters", "triggers", "activities", "connections", "outputs", "layout"];
    private static readonly HashSet<string> NodeKeys = ["id", "type", "pool", "inputs", "retry", "count", "items", "body", "outputs", "description"];
    private static readonly HashSet<string> ParameterKeys = ["type", "default", "min", "max", "description"];

    public static WorkflowLoadResult LoadFile(string path)
    {
        if (!File.Exists(path))
            return new(null, [new WorkflowProblem("$", $"file not found: {Path.GetFullPath(path)}")], path);
        return Parse(File.ReadAllText(path), path);
    }

    public static WorkflowLoadResult Parse(string json, string source = "<inline>")
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var pos = (int)(e.BytePositionInLine ?? 0) + 1;
            return new(null, [new WorkflowProblem(e.Path ?? "$", $"malformed JSON: {FirstSentence(e.Message)}", line, pos)], source);
        }
        var problems = new List<WorkflowProblem>();
        if (root is not JsonObject obj)
        {
            problems.Add(new("$", $"expected a JSON object at the top level, got {Kind(root)}"));
            return new(null, problems, source);
        }
        foreach (var (key, _) in obj)
            if (!TopLevelKeys.Contains(key)) problems.Add(new($"$.{key}", $"unknown property '{key}'; expected one of {string.Join(", ", TopLevelKeys.Skip(1))}"));

        var def = new WorkflowDefinition
        {
            Id = ReadString(obj, "id", "$", problems, required: true) ?? "",
            Version = ReadInt(obj, "version", "$", problems) ?? 1,
            Description = ReadString(obj, "description", "$", problems) ?? "",
            Parameters = ReadParameters(obj["parameters"], "$.parameters", problems),
            Triggers = ReadTriggers(obj["triggers"], "$.triggers", problems),
            Activities = ReadNodes(obj["activities"], "$.activities", problems, required: true),
            Connections = ReadConnections(obj["connections"], "$.connections", problems),
            Outputs = ReadInputs(obj["outputs"], "$.outputs", problems),
            Source = source,
            Json = json,
        };
        CheckLayout(obj["layout"], problems);
        return new(def, problems, source);
    }

    /// <summary>"layout": where the studio's designer drew each node, <c>{"nodeId": {"x": 0, "y": 0}}</c>; the engine only checks its shape.</summary>
    private static void CheckLayout(JsonNode? node, List<WorkflowProblem> problems)
    {
        if (node is null) return;
        if (node is not JsonObject layout) { problems.Add(new("$.layout", $"expected an object of node positions {{\"id\": {{\"x\": 0, \"y\": 0}}}}, got {Kind(node)}")); return; }
        foreach (var (id, value) in layout)
            if (value is not JsonObject p || p.Count != 2 || !IsNumber(p["x"]) || !IsNumber(p["y"]))
                problems.Add(new($"$.layout.{id}", $"expected {{\"x\": number, \"y\": number}}, got {value?.ToJsonString() ?? "null"}"));

        static bool IsNumber(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d);
    }

    /// <summary>Reads one input value: <c>{"param"}</c>, <c>{"from"}</c>, <c>{"fromPrevious","initial"}</c>, <c>{"var"}</c>, <c>{"literal"}</c> or any other JSON literal.</summary>
    public static InputValue ReadInput(JsonNode? node, string path, List<WorkflowProblem> problems)
    {
        if (node is JsonObject o && o.Count is 1 or 2)
        {
            if (o.Count == 1 && o.ContainsKey("literal")) return InputValue.Of(o["literal"]?.DeepClone(), path);
            if (o.Count == 1 && o["param"] is JsonValue p)
                return new() { Kind = InputKind.Param, Name = StringOrProblem(p, $"{path}.param", problems), Path = path };
            if (o.Count == 1 && o["var"] is JsonValue v)
                return new() { Kind = InputKind.Var, Name = StringOrProblem(v, $"{path}.var", problems), Path = path };
            if (o.Count == 1 && o["from"] is JsonValue f)
            {
                var (a, output) = SplitRef(StringOrProblem(f, $"{path}.from", problems), $"{path}.from", problems);
                return new() { Kind = InputKind.From, Activity = a, Output = output, Path = path };
            }
            if (o["fromPrevious"] is JsonValue fp && (o.Count == 1 || o.ContainsKey("initial")))
            {
                var (a, output) = SplitRef(StringOrProblem(fp, $"{path}.fromPrevious", problems), $"{path}.fromPrevious", problems);
                if (!o.ContainsKey("initial"))
                    problems.Add(new(path, "a fromPrevious reference needs an \"initial\" value for round 0"));
                var initial = o.ContainsKey("initial") ? ReadInput(o["initial"], $"{path}.initial", problems) : null;
                return new() { Kind = InputKind.FromPrevious, Activity = a, Output = output, Initial = initial, Path = path };
            }
        }
        return InputValue.Of(node?.DeepClone(), path);
    }

    private static Dictionary<string, ParameterDefinition> ReadParameters(JsonNode? node, string path, List<WorkflowProblem> problems)
    {
        var result = new Dictionary<string, ParameterDefinition>(StringComparer.Ordinal);
        if (node is null) return result;
        if (node is not JsonObject o) { problems.Add(new(path, $"expected an object of parameters, got {Kind(node)}")); return result; }
        foreach (var (name, value) in o)
        {
            var p = $"{path}.{name}";
            if (value is not JsonObject po) { problems.Add(new(p, $"expected {{\"type\":...,\"default\":...}}, got {Kind(value)}")); continue; }
            foreach (var (key, _) in po)
                if (!ParameterKeys.Contains(key)) problems.Add(new($"{p}.{key}", $"unknown property '{key}'; expected one of {string.Join(", ", ParameterKeys)}"));
            var type = ReadString(po, "type", p, problems, required: true) ?? PortTypes.Json;
            if (!PortTypes.IsKnown(type)) problems.Add(new($"{p}.type", $"unknown type '{type}'; expected int, number, string, bool, artifact, json or T[]"));
            result[name] = new ParameterDefinition
            {
                Name = name,
                Type = type,
                Default = po["default"]?.DeepClone(),
                HasDefault = po.ContainsKey("default"),
                Min = ReadDouble(po, "min", p, problems),
                Max = ReadDouble(po, "max", p, problems),
                Description = ReadString(po, "description", p, problems) ?? "",
                Path = p,
            };
        }
        return result;
    }

    private static List<TriggerBinding> ReadTriggers(JsonNode? node, string path, List<WorkflowProblem> problems)
    {
        var result = new List<TriggerBinding>();
        if (node is null) return result;
        if (node is not JsonArray arr) { problems.Add(new(path, $"expected an array of trigger names, got {Kind(node)}")); return result; }
        for (var i = 0; i < arr.Count; i++)
        {
            var p = $"{path}[{i}]";
            switch (arr[i])
            {
                case JsonValue v when v.TryGetValue<string>(out var name):
                    result.Add(new TriggerBinding { Event = name, Path = p });
                    break;
                case JsonObject o:
                    var ev = ReadString(o, "event", p, problems, required: true) ?? "";
                    var map = new Dictionary<string, string>();
                    if (o["parameters"] is JsonObject pm)
                        foreach (var (k, v2) in pm)
                            if (v2 is JsonValue sv && sv.TryGetValue<string>(out var field)) map[k] = field;
                            else problems.Add(new($"{p}.parameters.{k}", $"expected the name of a payload field (string), got {Kind(v2)}"));
                    result.Add(new TriggerBinding { Event = ev, Parameters = map, Path = p });
                    break;
                default:
                    problems.Add(new(p, $"expected a trigger name or {{\"event\":...,\"parameters\":{{...}}}}, got {Kind(arr[i])}"));
                    break;
            }
        }
        return result;
    }

    private static List<ActivityNode> ReadNodes(JsonNode? node, string path, List<WorkflowProblem> problems, bool required)
    {
        var result = new List<ActivityNode>();
        if (node is null)
        {
            if (required) problems.Add(new(path, "missing required property (an array of activities)"));
            return result;
        }
        if (node is not JsonArray arr) { problems.Add(new(path, $"expected an array of activities, got {Kind(node)}")); return result; }
        for (var i = 0; i < arr.Count; i++)
        {
            var p = $"{path}[{i}]";
            if (arr[i] is not JsonObject o) { problems.Add(new(p, $"expected an activity object, got {Kind(arr[i])}")); continue; }
            foreach (var (key, _) in o)
                if (!NodeKeys.Contains(key)) problems.Add(new($"{p}.{key}", $"unknown property '{key}'; expected one of {string.Join(", ", NodeKeys)}"));
            var type = ReadString(o, "type", p, problems, required: true) ?? "";
            var isRepeat = type == ActivityNode.RepeatType;
            var isForEach = type == ActivityNode.ForEachType;
            if (isRepeat && !o.ContainsKey("count")) problems.Add(new(p, "a repeat needs \"count\" (a number or {\"param\":...})"));
            if (isForEach && !o.ContainsKey("items")) problems.Add(new(p, "a forEach needs \"items\" (a list or a reference to one)"));
            if ((isRepeat || isForEach) && !o.ContainsKey("body")) problems.Add(new(p, $"a {type} needs a \"body\" array of activities"));
            if (!(isRepeat || isForEach))
                foreach (var k in new[] { "count", "items", "body" })
                    if (o.ContainsKey(k)) problems.Add(new($"{p}.{k}", $"'{k}' belongs to repeat/forEach containers, not to an activity of type '{type}'"));
            RetryPolicy? retry = null;
            if (o["retry"] is JsonObject r)
                retry = new RetryPolicy
                {
                    MaxAttempts = ReadInt(r, "maxAttempts", $"{p}.retry", problems) ?? 3,
                    BackoffSeconds = ReadDouble(r, "backoffSeconds", $"{p}.retry", problems) ?? 5,
                };
            else if (o.ContainsKey("retry")) problems.Add(new($"{p}.retry", $"expected {{\"maxAttempts\":3,\"backoffSeconds\":5}}, got {Kind(o["retry"])}"));
            result.Add(new ActivityNode
            {
                Id = ReadString(o, "id", p, problems, required: true) ?? "",
                Type = type,
                Pool = ReadString(o, "pool", p, problems),
                Inputs = ReadInputs(o["inputs"], $"{p}.inputs", problems),
                Retry = retry,
                Count = o.ContainsKey("count") ? ReadInput(o["count"], $"{p}.count", problems) : null,
                Items = o.ContainsKey("items") ? ReadInput(o["items"], $"{p}.items", problems) : null,
                Body = ReadNodes(o["body"], $"{p}.body", problems, required: false),
                Outputs = ReadInputs(o["outputs"], $"{p}.outputs", problems),
                Path = p,
            });
        }
        return result;
    }

    private static Dictionary<string, InputValue> ReadInputs(JsonNode? node, string path, List<WorkflowProblem> problems)
    {
        var result = new Dictionary<string, InputValue>(StringComparer.Ordinal);
        if (node is null) return result;
        if (node is not JsonObject o) { problems.Add(new(path, $"expected an object of named values, got {Kind(node)}")); return result; }
        foreach (var (name, value) in o) result[name] = ReadInput(value, $"{path}.{name}", problems);
        return result;
    }

    private static List<ConnectionDefinition> ReadConnections(JsonNode? node, string path, List<WorkflowProblem> problems)
    {
        var result = new List<ConnectionDefinition>();
        if (node is null) return result;
        if (node is not JsonArray arr) { problems.Add(new(path, $"expected an array of {{\"from\":...,\"to\":...}}, got {Kind(node)}")); return result; }
        for (var i = 0; i < arr.Count; i++)
        {
            var p = $"{path}[{i}]";
            if (arr[i] is not JsonObject o) { problems.Add(new(p, $"expected {{\"from\":...,\"to\":...}}, got {Kind(arr[i])}")); continue; }
            result.Add(new ConnectionDefinition
            {
                From = ReadString(o, "from", p, problems, required: true) ?? "",
                To = ReadString(o, "to", p, problems, required: true) ?? "",
                Path = p,
            });
        }
        return result;
    }

    private static (string? Activity, string? Output) SplitRef(string? text, string path, List<WorkflowProblem> problems)
    {
        if (text is null) return (null, null);
        var dot = text.IndexOf('.');
        if (dot <= 0 || dot == text.Length - 1)
        {
            problems.Add(new(path, $"expected \"activity.output\", got \"{text}\""));
            return (text, null);
        }
        return (text[..dot], text[(dot + 1)..]);
    }

    private static string? StringOrProblem(JsonValue v, string path, List<WorkflowProblem> problems)
    {
        if (v.TryGetValue<string>(out var s)) return s;
        problems.Add(new(path, $"expected a string, got {Kind(v)}"));
        return null;
    }

    private static string? ReadString(JsonObject o, string key, string path, List<WorkflowProblem> problems, bool required = false)
    {
        var node = o[key];
        if (node is null)
        {
            if (required) problems.Add(new($"{path}.{key}", "missing required property"));
            return null;
        }
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        problems.Add(new($"{path}.{key}", $"expected a string, got {Kind(node)}"));
        return null;
    }

    private static int? ReadInt(JsonObject o, string key, string path, List<WorkflowProblem> problems)
    {
        var node = o[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<int>(out var i)) return i;
        problems.Add(new($"{path}.{key}", $"expected an integer, got {Kind(node)} {node.ToJsonString()}"));
        return null;
    }

    private static double? ReadDouble(JsonObject o, string key, string path, List<WorkflowProblem> problems)
    {
        var node = o[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<double>(out var d)) return d;
        problems.Add(new($"{path}.{key}", $"expected a number, got {Kind(node)} {node.ToJsonString()}"));
        return null;
    }

    internal static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };

    private static string FirstSentence(string message)
    {
        var i = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (i > 0 ? message[..i] : message).Trim();
    }
}
