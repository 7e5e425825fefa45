namespace PostTrain.Model.Data;

/// <summary>A data file was rejected as a whole; <see cref="Errors"/> holds every bad line, not just the first.</summary>
public sealed class PreferenceImportException : Exception
{
    public PreferenceImportException(string file, IReadOnlyList<ImportError> errors)
        : base($"{file}: rejected, {errors.Count} error(s):{Environment.NewLine}{string.Join(Environment.NewLine, errors)}")
    {
        File = file;
        Errors = errors;
    }

    public string File { get; }
    public IReadOnlyList<ImportError> Errors { get; }
}
