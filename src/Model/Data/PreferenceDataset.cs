namespace PostTrain.Model.Data;

/// <summary>PostTrain's own preference JSONL: explicit prompt as a message list, snake_case fields.</summary>
public static class PreferenceDataset
{
    public static void Write(string path, IEnumerable<PreferencePair> pairs) => DataJson.WriteLines(path, pairs);

    /// <summary>Reads a file written by <see cref="Write"/> (or any explicit-prompt JSONL) with the importer's full
    /// validation, all-or-nothing.</summary>
    /// <exception cref="PreferenceImportException">Lists every bad line as FILE:LINE: field: reason.</exception>
    public static IReadOnlyList<PreferencePair> Read(string path) =>
        new PreferenceImporter(new PreferenceImportOptions { AddProvenance = false }).Import(path);
}
