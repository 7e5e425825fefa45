namespace PostTrain.Workflows.Reports;

/// <summary>
/// The loop against the same post-training work spent in one round (issue 15): the base, the run's last round and the
/// ablation run's policy on the same fresh held-out prompts, with the paired McNemar test of the two post-trained ones.
/// </summary>
/// <param name="AblationRunId">The run that spent the work in one round.</param>
/// <param name="OnlyLoop">Fresh prompts the run's last round answered right and the ablation wrong.</param>
/// <param name="OnlyAblation">The reverse.</param>
public sealed record AblationComparison(string AblationRunId, IReadOnlyList<AblationRow> Rows, int OnlyLoop, int OnlyAblation)
{
    public double PValue => McNemarTest.PValue(OnlyLoop, OnlyAblation);
}
