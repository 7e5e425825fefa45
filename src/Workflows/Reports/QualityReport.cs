namespace PostTrain.Workflows.Reports;

/// <summary>Everything <c>posttrain report</c> shows about one run.</summary>
/// <param name="RmJudged">Head-to-head results between rounds' policies on held-out prompts, judged by the reward model.</param>
/// <param name="CheckerJudged">The same comparisons judged by the exact checker (right beats wrong; both right or both wrong tie).</param>
/// <param name="ActivitySeconds">Wall time per activity kind, summed over the run.</param>
public sealed record QualityReport(
    string RunId,
    string Workflow,
    DateTimeOffset Finished,
    TimeSpan WallTime,
    IReadOnlyList<RoundSummary> Rounds,
    IReadOnlyList<PairwiseResult> RmJudged,
    IReadOnlyList<PairwiseResult> CheckerJudged,
    IReadOnlyDictionary<string, double> ActivitySeconds)
{
    /// <summary>The loop against the same work in one round (<c>posttrain report RUN --ablation RUN2</c>); null = none asked.</summary>
    public AblationComparison? Ablation { get; init; }
}
