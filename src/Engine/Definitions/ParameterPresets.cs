using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Engine.Validation;

namespace PostTrain.Engine.Definitions;

/// <summary>
/// Presets are named parameter files, <c>presets/NAME.json</c> beside the workflow file, chosen by the workflow's
/// <c>preset</c> parameter: <c>{"description": "...", "workflows": {"iterate": {"examples": 1500, ...}}}</c>, values per
/// workflow id, since one name (<c>prompts</c>) means different things in different workflows. Their values go over the
/// definition's defaults and under values given explicitly; a workflow the file does not list gets only its defaults.
/// Applied where every run is prepared (<c>RunLauncher</c>), so <c>--preset tiny</c>,
/// <c>preset = tiny</c> in the studio's Run dialog and a trigger mean the same run; the file is the one declaration.
/// </summary>
public static class ParameterPresets
{
    public const string Parameter = "preset";
    public const string Folder = "presets";

    /// <summary>The preset a run asks for: the explicit <c>preset</c> value, else the definition's default; null when the workflow has none.</summary>
    public static string? NameOf(WorkflowDefinition definition, IReadOnlyDictionary<string, string> raw)
    {
        if (!definition.Parameters.TryGetValue(Parameter, out var p)) return null;
        if (raw.TryGetValue(Parameter, out var given)) return given;
        return p.Default is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }

    public static string FileOf(string workflowSource, string name) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(workflowSource)) ?? ".", Folder, name + ".json");

    /// <summary>
    /// <paramref name="raw"/> with the preset's values added under it (raw text, as <c>--param</c> gives them), or the
    /// problems as <c>FILE: workflows.ID.NAME: reason</c>. A preset name without a file adds nothing.
    /// </summary>
    public static (IReadOnlyDictionary<string, string> Parameters, IReadOnlyList<string> Errors) Apply(WorkflowDefinition definition, IReadOnlyDictionary<string, string> raw)
    {
        if (NameOf(definition, raw) is not { Length: > 0 } name) return (raw, []);
        if (name.IndexOfAny(['/', '\\']) >= 0 || name.StartsWith('.')) return (raw, [$"parameter '{Parameter}' = '{name}': expected a preset name, not a path"]);
        var file = FileOf(definition.Source, name);
        if (!File.Exists(file)) return (raw, []);
        JsonObject values;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new JsonException("expected an object");
            var workflows = root["workflows"] as JsonObject ?? throw new JsonException("expected \"workflows\": {\"WORKFLOW-ID\": {\"NAME\": VALUE, ...}}");
            if (workflows[definition.Id] is null) return (raw, []);
            values = workflows[definition.Id] as JsonObject ?? throw new JsonException($"workflows.{definition.Id}: expected an object of parameter values");
        }
        catch (JsonException e) { return (raw, [$"{file}: {e.Message}"]); }

        var merged = new Dictionary<string, string>(raw, StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var (key, value) in values)
        {
            if (raw.ContainsKey(key)) continue;
            if (!definition.Parameters.TryGetValue(key, out var p)) { errors.Add($"{file}: workflows.{definition.Id}.{key}: {definition.Source} has no parameter '{key}'"); continue; }
            if (ParameterBinder.Check(p, value) is { } reason) { errors.Add($"{file}: workflows.{definition.Id}.{key}: {reason}"); continue; }
            merged[key] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "null";
        }
        return (merged, errors);
    }
}
