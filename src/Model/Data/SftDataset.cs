using System.Text;
using System.Text.Json;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>SFT examples as JSONL: {"prompt": [{"role", "content"}...], "response": "...", "source": {...}}.</summary>
public static class SftDataset
{
    public static void Write(string path, IEnumerable<SftExample> examples) => DataJson.WriteLines(path, examples);

    /// <summary>All-or-nothing read; every bad line is reported.</summary>
    /// <exception cref="PreferenceImportException">Lists every bad line as FILE:LINE: field: reason.</exception>
    public static IReadOnlyList<SftExample> Read(string path)
    {
        var errors = new List<ImportError>();
        var examples = new List<SftExample>();
        foreach (var (line, text, error) in JsonlLines.Read(path))
        {
            if (error is not null) { errors.Add(error); continue; }
            SftExample? ex;
            try { ex = JsonSerializer.Deserialize<SftExample>(text!, DataJson.Options); }
            catch (JsonException e) { errors.Add(new ImportError(path, line, e.Path ?? "$", $"wrong type or malformed JSON: {e.Message}")); continue; }
            if (ex is null) { errors.Add(new ImportError(path, line, "$", "expected an object, found null")); continue; }
            var before = errors.Count;
            if (ex.Prompt is null || ex.Prompt.Count == 0) errors.Add(new ImportError(path, line, "prompt", "expected at least one message, found none"));
            else
                for (var i = 0; i < ex.Prompt.Count; i++)
                {
                    var m = ex.Prompt[i];
                    if (m is null || !ChatTemplate.Roles.Contains(m.Role)) errors.Add(new ImportError(path, line, $"prompt[{i}].role", $"expected one of {string.Join(", ", ChatTemplate.Roles)}, found \"{m?.Role}\""));
                    else if (m.Content is null) errors.Add(new ImportError(path, line, $"prompt[{i}].content", "expected a string, found null"));
                }
            if (string.IsNullOrWhiteSpace(ex.Response)) errors.Add(new ImportError(path, line, "response", "expected non-empty text"));
            if (errors.Count == before) examples.Add(ex);
        }
        if (errors.Count > 0) throw new PreferenceImportException(path, errors);
        return examples;
    }
}
