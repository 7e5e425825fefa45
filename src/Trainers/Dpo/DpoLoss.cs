using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Trainers.Dpo;

/// <summary>
/// The DPO family as a pure function of four sequence log-prob tensors, after TRL's <c>dpo_loss</c>.
/// </summary>
public static class DpoLoss
{
    /// <summary>
    /// Per-pair losses and implicit rewards.
    /// </summary>
    /// <param name="policyChosen">(B,) log π_θ(y_w|x), summed over response tokens.</param>
    /// <param name="policyRejected">(B,) log π_θ(y_l|x).</param>
    /// <param name="referenceChosen">(B,) log π_ref(y_w|x); treated as constant.</param>
    /// <param name="referenceRejected">(B,) log π_ref(y_l|x); treated as constant.</param>
    /// <param name="beta">β &gt; 0: strength of the KL anchor to the reference (sigmoid, hinge, robust) or 1/(2β) margin target (IPO).</param>
    /// <param name="labelSmoothing">ε in [0, 0.5): assumed rate of flipped labels; used by Sigmoid and Cdpo (cDPO) and Robust only.</param>
    /// <returns>Losses (B,) with the graph kept; chosen and rejected rewards (B,) = β (log π_θ − log π_ref), detached
    /// (Rafailov et al. 2023 sec. 5: the implicit reward).</returns>
    public static (Tensor Losses, Tensor ChosenRewards, Tensor RejectedRewards) Compute(
        Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected,
        DpoLossType type = DpoLossType.Sigmoid, double beta = 0.1, double labelSmoothing = 0.0)
    {
        if (beta <= 0 || double.IsNaN(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "β must be > 0");
        if (labelSmoothing is < 0 or >= 0.5 || double.IsNaN(labelSmoothing))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing ε must be in [0, 0.5)");
        if (type == DpoLossType.Cdpo && !(labelSmoothing > 0))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, $"cDPO needs label smoothing ε in (0, 0.5), e.g. {DpoOptions.CdpoLabelSmoothing}; with ε = 0 it is the sigmoid loss");
        var shape = policyChosen.shape;
        foreach (var (name, t) in new[] { ("policyRejected", policyRejected), ("referenceChosen", referenceChosen), ("referenceRejected", referenceRejected) })
            if (!t.shape.SequenceEqual(shape) || t.dim() != 1)
                throw new ArgumentException($"{name} has shape ({string.Join(", ", t.shape)}), expected (B,) equal to policyChosen's ({string.Join(", ", shape)})");

        using var scope = NewDisposeScope();
        var refChosen = referenceChosen.detach();
        var refRejected = referenceRejected.detach();
        var h = (policyChosen - policyRejected) - (refChosen - refRejected); // (B,) TRL's "logits"
        var eps = labelSmoothing;
        var losses = type switch
        {
            DpoLossType.Sigmoid or DpoLossType.Cdpo => -F.logsigmoid(beta * h) * (1 - eps) - F.logsigmoid(-beta * h) * eps,
            DpoLossType.Ipo => (h - 1 / (2 * beta)).pow(2),
            DpoLossType.Hinge => F.relu(1 - beta * h),
            DpoLossType.Robust => (-F.logsigmoid(beta * h) * (1 - eps) + F.logsigmoid(-beta * h) * eps) / (1 - 2 * eps),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown DPO loss type"),
        };
        var chosenRewards = (beta * (policyChosen - refChosen)).detach();
        var rejectedRewards = (beta * (policyRejected - refRejected)).detach();
        return (losses.MoveToOuterDisposeScope(), chosenRewards.MoveToOuterDisposeScope(), rejectedRewards.MoveToOuterDisposeScope());
    }
}
