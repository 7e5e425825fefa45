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
        Scan(path, examples.Add, errors.Add);
        if (errors.Count > 0) throw new PreferenceImportException(path, errors);
        return examples;
    }

    /// <summary>
    /// Checks a file without keeping its examples (memory bounded by one line, whatever the file's size): the number
    /// of good examples, the first <paramref name="maxErrors"/> errors and the count of all of them.
    /// </summary>
    public static (int Examples, IReadOnlyList<ImportError> Errors, int ErrorCount) Check(string path, int maxErrors)
    {
        if (!File.Exists(path)) return (0, [new ImportError(path, 0, "file", "does not exist")], 1);
        var first = new List<ImportError>();
        int examples = 0, count = 0;
        Scan(path, _ => examples++, e => { if (count++ < maxErrors) first.Add(e); });
        return (examples, first, count);
    }

    /// <summary>One streaming pass: each good example goes to <paramref name="keep"/>, each problem to <paramref name="error"/>.</summary>
    private static void Scan(string path, Action<SftExample> keep, Action<ImportError> error)
    {
        foreach (var (line, text, lineError) in JsonlLines.Read(path))
        {
            if (lineError is not null) { error(lineError); continue; }
            SftExample? ex;
            try { ex = JsonSerializer.Deserialize<SftExample>(text!, DataJson.Options); }
            catch (JsonException e) { error(new ImportError(path, line, e.Path ?? "$", $"wrong type or malformed JSON: {e.Message}")); continue; }
            if (ex is null) { error(new ImportError(path, line, "$", "expected an object, found null")); continue; }
            var ok = true;
            if (ex.Prompt is null || ex.Prompt.Count == 0) { error(new ImportError(path, line, "prompt", "expected at least one message, found none")); ok = false; }
            else
                for (var i = 0; i < ex.Prompt.Count; i++)
                {
                    var m = ex.Prompt[i];
                    if (m is null || !ChatTemplate.Roles.Contains(m.Role)) { error(new ImportError(path, line, $"prompt[{i}].role", $"expected one of {string.Join(", ", ChatTemplate.Roles)}, found \"{m?.Role}\"")); ok = false; }
                    else if (m.Content is null) { error(new ImportError(path, line, $"prompt[{i}].content", "expected a string, found null")); ok = false; }
                }
            if (string.IsNullOrWhiteSpace(ex.Response)) { error(new ImportError(path, line, "response", "expected non-empty text")); ok = false; }
            if (ok) keep(ex);
        }
    }
}
