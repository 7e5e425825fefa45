using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Trainers;

/// <summary>Per-row sums of target-token log-probabilities, the quantity DPO compares (log π(y|x) summed over tokens).</summary>
public static class SequenceLogProbs
{
    /// <summary>
    /// Sum and count of log p(target) per row.
    /// </summary>
    /// <param name="logits">(B, T, V) float.</param>
    /// <param name="targets">(B, T) int64, <see cref="TokenTargets.IgnoreIndex"/> where no log-prob is taken.</param>
    /// <returns>sum (B,) float32 with the graph kept, and count (B,) int64 of tokens summed.</returns>
    public static (Tensor Sum, Tensor Count) Compute(Tensor logits, Tensor targets)
    {
        if (logits.dim() != 3 || targets.dim() != 2 || logits.shape[0] != targets.shape[0] || logits.shape[1] != targets.shape[1])
            throw new ArgumentException($"logits are ({string.Join(", ", logits.shape)}) and targets ({string.Join(", ", targets.shape)}), expected (B, T, V) and (B, T)");
        using var scope = NewDisposeScope();
        var valid = targets.ne(TokenTargets.IgnoreIndex);                            // (B, T)
        var safe = where(valid, targets, zeros_like(targets));                        // gather needs in-range ids
        var logp = F.log_softmax(logits.to_type(ScalarType.Float32), -1);            // (B, T, V)
        var picked = logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1);                 // (B, T)
        var sum = (picked * valid.to_type(ScalarType.Float32)).sum(1);                // (B,)
        var count = valid.sum(1);                                                     // (B,)
        return (sum.MoveToOuterDisposeScope(), count.MoveToOuterDisposeScope());
    }
}
