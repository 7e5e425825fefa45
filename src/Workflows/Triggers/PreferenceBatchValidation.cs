namespace PostTrain.Workflows.Triggers;

/// <summary>The verdict on a preference batch: its pair count and every error (each naming source, line and reason).</summary>
public sealed record PreferenceBatchValidation(int Pairs, IReadOnlyList<string> Errors)
{
    public bool IsValid => Errors.Count == 0 && Pairs > 0;
}
