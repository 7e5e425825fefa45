using PostTrain.Model;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Dpo;

/// <summary>
/// Chosen and rejected sequences of a batch of pairs in ONE forward (TRL's concatenated_forward: "avoid doing two forward
/// passes"): rows [chosen_0 … chosen_{B−1}, rejected_0 … rejected_{B−1}], right-padded to a common length.
/// </summary>
public static class ConcatenatedForward
{
    /// <summary>Ids and aligned targets of each side of <paramref name="pair"/>, truncated to <paramref name="maxLength"/>.</summary>
    public static ((int[] Ids, int[] Targets) Chosen, (int[] Ids, int[] Targets) Rejected) Rows(PreferenceEncoding pair, bool maskFormatting, int maxLength, int index)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return (Side(pair.Chosen, "chosen"), Side(pair.Rejected, "rejected"));

        (int[] Ids, int[] Targets) Side(Model.Tokenization.ChatEncoding e, string side)
        {
            var targets = TokenTargets.Response(e, maskFormatting);
            var ids = e.Ids;
            if (ids.Length > maxLength)
            {
                ids = ids[..maxLength];
                targets = targets[..maxLength];
                targets[^1] = TokenTargets.IgnoreIndex;
            }
            if (!targets.Any(t => t != TokenTargets.IgnoreIndex))
                throw new ArgumentException($"pair {index}: the {side} response has no scored token (length {e.Length}, prompt {e.PromptLength}, max length {maxLength}, formatting masked: {maskFormatting})");
            return (ids, targets);
        }
    }

    /// <summary>
    /// Summed log-probs of both sides.
    /// </summary>
    /// <returns>Chosen and rejected (B,) float32 sums with the graph kept, and the count of chosen scored tokens (a scalar,
    /// the NLL term's normaliser).</returns>
    public static (Tensor Chosen, Tensor Rejected, long ChosenTokens) LogProbs(LlamaForCausalLM model,
        IReadOnlyList<((int[] Ids, int[] Targets) Chosen, (int[] Ids, int[] Targets) Rejected)> pairs, int padId, Device device)
    {
        using var scope = NewDisposeScope();
        var B = pairs.Count;
        var rows = pairs.Select(p => p.Chosen).Concat(pairs.Select(p => p.Rejected)).ToList();
        using var batch = TokenBatch.Pad(rows, padId, device);
        var (sum, count) = SequenceLogProbs.Compute(batch.Forward(model), batch.Targets); // (2B,), (2B,)
        var chosenTokens = count[..B].sum().item<long>();
        return (sum[..B].MoveToOuterDisposeScope(), sum[B..].MoveToOuterDisposeScope(), chosenTokens);
    }
}
