namespace PostTrain.RewardModel;

/// <summary>What <see cref="RewardModelTrainer.Train"/> measured.</summary>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="Loss">Mean loss over the last epoch's steps.</param>
/// <param name="TrainAccuracy">Share of training comparisons with r_c &gt; r_r after training.</param>
/// <param name="HeldOutAccuracy">The same on the held-out comparisons; NaN when there are none.</param>
/// <param name="MeanMargin">Mean r_c − r_r over the held-out comparisons (the training ones when none are held out).</param>
/// <param name="InitialHeldOutAccuracy">Held-out accuracy before the first step, so a run shows what it gained.</param>
/// <param name="TrainComparisons">Comparisons trained on.</param>
/// <param name="HeldOutComparisons">Comparisons held out.</param>
public sealed record RewardModelMetrics(long Steps, double Loss, double TrainAccuracy, double HeldOutAccuracy, double MeanMargin,
    double InitialHeldOutAccuracy, int TrainComparisons, int HeldOutComparisons)
{
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        ["steps"] = Steps,
        ["loss"] = Loss,
        ["train_accuracy"] = TrainAccuracy,
        ["heldout_accuracy"] = HeldOutAccuracy,
        ["mean_margin"] = MeanMargin,
        ["initial_heldout_accuracy"] = InitialHeldOutAccuracy,
        ["train_comparisons"] = TrainComparisons,
        ["heldout_comparisons"] = HeldOutComparisons,
    };
}
