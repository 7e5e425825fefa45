using System.Security.Cryptography;
using System.Text;
using PostTrain.Model.Data;

namespace PostTrain.RewardModel;

/// <summary>The reward model's train / held-out split of preference pairs.</summary>
public static class PreferenceSplit
{
    /// <summary>
    /// Holds out about <paramref name="fraction"/> of the prompts with all their pairs. By prompt, not by pair: two
    /// pairs of one prompt share its correct answer, so a pair-level split scores the reward model on an answer it was
    /// trained to prefer. With too few prompts for the hash to split, the first pair is held out.
    /// </summary>
    public static (IReadOnlyList<PreferencePair> Train, IReadOnlyList<PreferencePair> HeldOut) ByPrompt(IReadOnlyList<PreferencePair> pairs, double fraction)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (fraction <= 0) return (pairs, []);
        var split = pairs.ToLookup(p => HeldOut(p, fraction));
        if (!split[true].Any() || !split[false].Any()) return (pairs.Skip(1).ToList(), pairs.Take(1).ToList());
        return (split[false].ToList(), split[true].ToList());

        static bool HeldOut(PreferencePair pair, double fraction)
        {
            // Salted: the task generator splits prompts by the same hash, so every sampled prompt would land on one side.
            var key = "reward-model-heldout\n" + string.Join("\n", pair.Prompt.Select(m => m.Role + ": " + m.Content));
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            return BitConverter.ToUInt32(hash, 0) / 4294967296.0 < fraction;
        }
    }
}
