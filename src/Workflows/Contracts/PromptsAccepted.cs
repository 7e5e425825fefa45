namespace PostTrain.Workflows.Contracts;

/// <summary>A prompt file was stored as a prompts dataset and the bound workflows were started (or queued).</summary>
public sealed record PromptsAccepted
{
    public Guid BatchId { get; init; }
    public string Dataset { get; init; } = "";
    public int Prompts { get; init; }
    public IReadOnlyList<Guid> Runs { get; init; } = [];
    public DateTime At { get; init; }
}
