using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Workflows.Triggers;

namespace PostTrain.Workflows.Tests.Support;

/// <summary>A simple validator: every non-empty line is an object with string prompt, chosen and rejected, chosen != rejected.</summary>
public sealed class JsonlPreferenceValidator : IPreferenceDataValidator
{
    public PreferenceBatchValidation Validate(string jsonl, string source)
    {
        var errors = new List<string>();
        var pairs = 0;
        var lines = jsonl.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(lines[i]); }
            catch (JsonException e) { errors.Add($"{source}:{i + 1}: not JSON: {e.Message}"); continue; }
            if (node is not JsonObject o) { errors.Add($"{source}:{i + 1}: expected an object"); continue; }
            var ok = true;
            foreach (var field in new[] { "prompt", "chosen", "rejected" })
                if (o[field] is not JsonValue v || !v.TryGetValue<string>(out _)) { errors.Add($"{source}:{i + 1}: missing string field '{field}'"); ok = false; }
            if (ok && o["chosen"]!.GetValue<string>() == o["rejected"]!.GetValue<string>()) { errors.Add($"{source}:{i + 1}: chosen equals rejected"); ok = false; }
            if (ok) pairs++;
        }
        return new PreferenceBatchValidation(pairs, errors);
    }
}
