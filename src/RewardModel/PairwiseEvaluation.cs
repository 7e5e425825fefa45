namespace PostTrain.RewardModel;

/// <summary>How a reward model orders a set of comparisons.</summary>
/// <param name="Accuracy">Share with r_c &gt; r_r (ties count as wrong); NaN for an empty set.</param>
/// <param name="MeanMargin">Mean r_c − r_r; NaN for an empty set.</param>
/// <param name="Count">Comparisons evaluated.</param>
public sealed record PairwiseEvaluation(double Accuracy, double MeanMargin, int Count);
