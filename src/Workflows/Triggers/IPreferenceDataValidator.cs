namespace PostTrain.Workflows.Triggers;

/// <summary>
/// Checks a preference batch (JSONL) before anything is stored. The real one will wrap
/// <c>PostTrain.Model.Data.PreferenceImporter</c>; register it in DI (see <c>PostTrainHostOptions.ConfigureServices</c>).
/// </summary>
public interface IPreferenceDataValidator
{
    /// <summary>Every problem (with its line) in <paramref name="jsonl"/>, and the number of valid pairs.</summary>
    PreferenceBatchValidation Validate(string jsonl, string source);
}
