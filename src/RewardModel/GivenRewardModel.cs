using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.RewardModel;

/// <summary>A reward model the user brings: scored on the held-out pairs a trained one would be scored on.</summary>
public static class GivenRewardModel
{
    /// <summary>
    /// Pairwise accuracy on the held-out comparisons (by prompt, as <see cref="PreferenceSplit.ByPrompt"/> splits) that fit the model's
    /// context. Pairs longer than the user's model can read are left out of its score rather than failing the run;
    /// when none fits, the model cannot be scored at all, which is an error naming <paramref name="given"/>.
    /// </summary>
    public static (PairwiseEvaluation Evaluation, int HeldOut) Evaluate(RewardModel model, IReadOnlyList<PreferencePair> pairs, double heldOutFraction, string given)
    {
        ArgumentNullException.ThrowIfNull(model);
        var template = new ChatTemplate(model.Tokenizer ?? throw new ArgumentException($"reward model {given}: no tokenizer files; it needs one to template the pairs"));
        var limit = model.Config.MaxPositionEmbeddings;
        var heldOut = PreferenceComparisons.Build(PreferenceSplit.ByPrompt(pairs, heldOutFraction).HeldOut, template)
            .Where(c => Math.Max(c.Chosen.Length, c.Rejected.Length) <= limit).ToList();
        if (heldOut.Count == 0)
            throw new ArgumentException($"reward model {given}: none of the held-out pairs fits its max_position_embeddings {limit}, so it cannot be scored");
        return (RewardModelTrainer.Evaluate(model, heldOut), heldOut.Count);
    }
}
