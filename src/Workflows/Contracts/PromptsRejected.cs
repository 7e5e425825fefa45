namespace PostTrain.Workflows.Contracts;

/// <summary>A prompt file failed validation (each error as FILE:LINE: field: reason): nothing was stored and no workflow started.</summary>
public sealed record PromptsRejected
{
    public Guid BatchId { get; init; }
    public IReadOnlyList<string> Errors { get; init; } = [];
    public DateTime At { get; init; }
}
