namespace PostTrain.Workflows.Contracts;

/// <summary>
/// A batch of preference pairs (JSONL, one <c>{"prompt","chosen","rejected"}</c> per line) is available: either a
/// file path readable by the host, or inline JSONL up to <see cref="MaxInlineBytes"/>.
/// </summary>
public sealed record PreferenceDataArrived
{
    public const int MaxInlineBytes = 4 * 1024 * 1024;

    public Guid BatchId { get; init; }
    public string? FilePath { get; init; }
    public string? InlineJsonl { get; init; }
    public string Source { get; init; } = "";
    public DateTime At { get; init; }
}
