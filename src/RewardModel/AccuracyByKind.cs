using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.RewardModel;

/// <summary>
/// Held-out accuracy per task kind, for the pairs whose source names one: the RM's errors sit in the skills its
/// backbone lacks (arithmetic, not sorting), which one overall figure hides.
/// </summary>
public static class AccuracyByKind
{
    /// <summary>Source key of a pair's task kind, as the verifier's annotator writes it.</summary>
    public const string SourceKey = "task_kind";

    public static IReadOnlyDictionary<string, PairwiseEvaluation> Evaluate(RewardModel model, IReadOnlyList<PreferencePair> heldOut, ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(heldOut);
        return heldOut
            .Where(p => p.Source?.ContainsKey(SourceKey) == true)
            .GroupBy(p => p.Source![SourceKey], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => RewardModelTrainer.Evaluate(model, PreferenceComparisons.Build(g, template)), StringComparer.Ordinal);
    }
}
