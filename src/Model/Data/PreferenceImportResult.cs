namespace PostTrain.Model.Data;

/// <summary>All-or-nothing outcome: either every pair (no errors) or every error (no pairs).</summary>
public sealed record PreferenceImportResult(IReadOnlyList<PreferencePair>? Pairs, PreferenceFormat? Format, IReadOnlyList<ImportError> Errors)
{
    public bool Succeeded => Pairs is not null && Errors.Count == 0;
}
