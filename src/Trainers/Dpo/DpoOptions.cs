namespace PostTrain.Trainers.Dpo;

/// <summary>
/// Direct preference optimisation options, after TRL's <c>DPOConfig</c>: the shared optimisation options of
/// <see cref="TrainerOptions"/> plus the preference loss. Each option's doc is its only documentation: type, default,
/// meaning and paper. Defaults follow Llama 3 post-training (Dubey et al. 2024, sec. 4.1.4).
/// </summary>
public sealed record DpoOptions : TrainerOptions
{
    /// <summary>double, default 0.1. β: the KL-anchor strength in Rafailov et al. 2023 eqn (7) (larger keeps the policy closer
    /// to the reference); in IPO the margin target is 1/(2β). Llama 3 uses 0.1.</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary><see cref="DpoLossType"/>, default Sigmoid. Which preference loss (TRL loss_type).</summary>
    public DpoLossType LossType { get; init; } = DpoLossType.Sigmoid;

    /// <summary>double, default 0.0. ε in [0, 0.5): assumed probability that a pair's label is flipped. Sigmoid becomes cDPO
    /// (Mitchell 2023), Robust uses it as in Chowdhury et al. 2024; ignored by IPO and hinge (TRL label_smoothing).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>ε that cDPO (<see cref="DpoLossType.Cdpo"/>) uses when none is given: 0.1, TRL's example value for noisy labels.</summary>
    public const double CdpoLabelSmoothing = 0.1;

    /// <summary>bool, default true. Drops formatting tokens (headers, role names, eot; <c>ChatEncoding.IsFormatting</c>) from the
    /// chosen and rejected log-probs and from the NLL term: Llama 3 sec. 4.1.4 found that these shared tokens, pushed up and down
    /// at once, make the model tail-repeat or stop early.</summary>
    public bool MaskFormattingTokens { get; init; } = true;

    /// <summary>double, default 0.2. Weight of a per-token-normalised NLL term on the chosen responses added to the DPO loss
    /// (Llama 3 sec. 4.1.4, coefficient 0.2; Pang et al. 2024 RPO; TRL rpo_alpha). 0 disables it.</summary>
    public double NllWeight { get; init; } = 0.2;

    /// <summary>Throws naming the field, the actual value and what is expected.</summary>
    public DpoOptions Validate()
    {
        Check(Beta > 0, nameof(Beta), Beta, "> 0");
        Check(Enum.IsDefined(LossType), nameof(LossType), LossType, string.Join("|", Enum.GetNames<DpoLossType>()));
        Check(LabelSmoothing is >= 0 and < 0.5, nameof(LabelSmoothing), LabelSmoothing, "in [0, 0.5)");
        Check(LossType != DpoLossType.Cdpo || LabelSmoothing > 0, nameof(LabelSmoothing), LabelSmoothing, "in (0, 0.5) for cDPO");
        Check(NllWeight >= 0, nameof(NllWeight), NllWeight, ">= 0");
        ValidateShared();
        return this;
    }
}
