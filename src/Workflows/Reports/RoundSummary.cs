namespace PostTrain.Workflows.Reports;

/// <summary>What one round (or the base model, round 0) achieved, as the quality report shows it.</summary>
/// <param name="Round">0 for the pretrained base, then 1..K.</param>
/// <param name="Checkpoint">Hash of the checkpoint selected as this round's policy.</param>
/// <param name="HeldOutCorrect">Held-out verifiable tasks answered exactly right (greedy).</param>
/// <param name="HeldOutTotal">Held-out verifiable tasks asked.</param>
/// <param name="RewardModelAccuracy">RM pairwise accuracy on held-out preference pairs.</param>
/// <param name="WinRateVsPrevious">RM-judged win rate of this round's policy against the previous sampler (ties half).</param>
/// <param name="SftLoss">Final SFT held-out loss.</param>
/// <param name="SftExactMatch">Held-out exact match of the round's SFT model, before DPO.</param>
/// <param name="DpoRewardAccuracy">DPO rewards/accuracies of the selected variant.</param>
/// <param name="DpoRewardMargin">DPO rewards/margins of the selected variant.</param>
/// <param name="ExactMatchByKind">Held-out exact match per task kind.</param>
/// <param name="FreshCorrect">Right answers on the report's fresh test prompts (never used to select a checkpoint).</param>
/// <param name="FreshTotal">Fresh test prompts asked; 0 when the report had none.</param>
/// <param name="FewShotExactMatch">Held-out exact match with k solved tasks of the same kind before each prompt; null when not measured.</param>
/// <param name="FewShots">k of <paramref name="FewShotExactMatch"/>.</param>
/// <param name="LayerCosines">Each decoder block's mean cos(h_in, h_out) for this round's checkpoint (LayerSimilarity); null when not measured.</param>
public sealed record RoundSummary(
    int Round,
    string Checkpoint,
    int HeldOutCorrect,
    int HeldOutTotal,
    double? RewardModelAccuracy = null,
    double? WinRateVsPrevious = null,
    double? SftLoss = null,
    double? SftExactMatch = null,
    double? DpoRewardAccuracy = null,
    double? DpoRewardMargin = null,
    IReadOnlyDictionary<string, double>? ExactMatchByKind = null,
    int FreshCorrect = 0,
    int FreshTotal = 0,
    double? FewShotExactMatch = null,
    int FewShots = 0,
    IReadOnlyList<double>? LayerCosines = null)
{
    /// <summary>Null when nothing checked the answers (verifier <c>none</c>): the reward model's win rate is then the measure.</summary>
    public ConfidenceInterval? Accuracy => HeldOutTotal > 0 ? ConfidenceInterval.Wilson(HeldOutCorrect, HeldOutTotal) : null;
    public ConfidenceInterval? FreshAccuracy => FreshTotal > 0 ? ConfidenceInterval.Wilson(FreshCorrect, FreshTotal) : null;
    public string Name => Round == 0 ? "base" : $"round {Round}";
}
