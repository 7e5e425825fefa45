using System.Text.Json.Nodes;

namespace PostTrain.Engine.Store;

/// <summary>The <c>sha256:</c> references anywhere in a JSON document (an activity's inputs or outputs), each once.</summary>
public static class ArtifactRefs
{
    public static IReadOnlyList<string> In(JsonNode? node)
    {
        var found = new List<string>();
        Collect(node, found);
        return [.. found.Distinct(StringComparer.Ordinal)];
    }

    private static void Collect(JsonNode? node, List<string> found)
    {
        switch (node)
        {
            case JsonObject o: foreach (var kv in o) Collect(kv.Value, found); break;
            case JsonArray a: foreach (var item in a) Collect(item, found); break;
            case JsonValue v when v.TryGetValue<string>(out var s) && s.StartsWith(ArtifactRef.Prefix, StringComparison.Ordinal): found.Add(s); break;
        }
    }
}
