using PostTrain.Model.Data;

namespace PostTrain.Workflows.Triggers;

/// <summary>
/// The production <see cref="IPreferenceDataValidator"/>: <see cref="PreferenceImporter"/> from the model core, which
/// accepts the hub's common preference layouts and rejects the whole batch if any line is bad.
/// </summary>
public sealed class PreferenceImporterValidator(PreferenceImportOptions? options = null) : IPreferenceDataValidator
{
    public PreferenceBatchValidation Validate(string jsonl, string source)
    {
        // The importer reads files; a staged copy keeps line numbers identical to the batch.
        var tmp = Path.Combine(Path.GetTempPath(), $"posttrain-prefs-{Environment.ProcessId}-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllText(tmp, jsonl);
            var result = new PreferenceImporter(options).TryImport(tmp);
            var errors = result.Errors.Select(e => $"{source}:{e.Line}: {e.Field}: {e.Reason}").ToList();
            return new PreferenceBatchValidation(result.Pairs?.Count ?? 0, errors);
        }
        finally
        {
            File.Delete(tmp);
        }
    }
}
