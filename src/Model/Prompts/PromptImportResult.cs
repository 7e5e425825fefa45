namespace PostTrain.Model.Prompts;

/// <summary>What an import made, or why it made nothing.</summary>
/// <param name="Errors">The first <see cref="PromptImporter.MaxReportedErrors"/> errors; <paramref name="ErrorCount"/> counts them all.</param>
/// <param name="Duplicates">Rows whose prompt repeats an earlier row's, dropped (one prompt, one id).</param>
/// <param name="Labels">Rows per recognised layout (gsm8k, math, choice, prompt, messages).</param>
public sealed record PromptImportResult(int Rows, int HeldOut, int Duplicates, int WithAnswer, IReadOnlyDictionary<string, int> Labels,
    IReadOnlyList<Data.ImportError> Errors, int ErrorCount)
{
    public bool Succeeded => ErrorCount == 0 && Rows > 0;
}
