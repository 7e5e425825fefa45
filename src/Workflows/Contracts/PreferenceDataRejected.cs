namespace PostTrain.Workflows.Contracts;

/// <summary>A preference batch failed validation: nothing was stored and no workflow started.</summary>
public sealed record PreferenceDataRejected
{
    public Guid BatchId { get; init; }
    public IReadOnlyList<string> Errors { get; init; } = [];
    public DateTime At { get; init; }
}
