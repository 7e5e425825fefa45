namespace PostTrain.Workflows.Contracts;

/// <summary>
/// A prompt file (JSONL: prompt, messages, GSM8K, MATH, multiple choice or TRL prompt-only rows) readable by the host is
/// available. The host imports it all or nothing and starts every workflow that binds the event on those prompts.
/// </summary>
public sealed record PromptsArrived
{
    public Guid BatchId { get; init; }
    public string FilePath { get; init; } = "";
    /// <summary>How the answers are checked (exact, numeric, choice, regex:PATTERN, none); empty = numeric when the rows have answers, else none.</summary>
    public string Verifier { get; init; } = "";
    public string Source { get; init; } = "";
    public DateTime At { get; init; }
}
