namespace PostTrain.Workflows.Contracts;

/// <summary>A preference batch was stored as a dataset and the bound workflows were started (or queued).</summary>
public sealed record PreferenceDataAccepted
{
    public Guid BatchId { get; init; }
    public string Dataset { get; init; } = "";
    public int Pairs { get; init; }
    public IReadOnlyList<Guid> Runs { get; init; } = [];
    public DateTime At { get; init; }
}
