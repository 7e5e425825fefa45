namespace PostTrain.Model.Tokenization;

/// <summary>
/// Llama 3's special-token strings. PostTrain's BPE appends them after the merges in this order, so ids stay
/// stable across runs that train with the same vocab size.
/// </summary>
public static class SpecialTokens
{
    public const string BeginOfText = "<|begin_of_text|>";
    public const string EndOfText = "<|end_of_text|>";
    public const string StartHeader = "<|start_header_id|>";
    public const string EndHeader = "<|end_header_id|>";
    public const string EndOfTurn = "<|eot_id|>";
    public const string Pad = "<|pad|>";

    /// <summary>All six, in vocabulary order.</summary>
    public static IReadOnlyList<string> All { get; } = [BeginOfText, EndOfText, StartHeader, EndHeader, EndOfTurn, Pad];
}
