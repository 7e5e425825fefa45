using PostTrain.Model.Training;

namespace PostTrain.Trainers.Dpo;

/// <summary>
/// Direct preference optimisation options, after TRL's <c>DPOConfig</c>. Each option's doc is its only documentation:
/// type, default, meaning and paper. Defaults follow Llama 3 post-training (Dubey et al. 2024, sec. 4.1.4).
/// </summary>
public sealed record DpoOptions
{
    /// <summary>double, default 0.1. β: the KL-anchor strength in Rafailov et al. 2023 eqn (7) (larger keeps the policy closer
    /// to the reference); in IPO the margin target is 1/(2β). Llama 3 uses 0.1.</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary><see cref="DpoLossType"/>, default Sigmoid. Which preference loss (TRL loss_type).</summary>
    public DpoLossType LossType { get; init; } = DpoLossType.Sigmoid;

    /// <summary>double, default 0.0. ε in [0, 0.5): assumed probability that a pair's label is flipped. Sigmoid becomes cDPO
    /// (Mitchell 2023), Robust uses it as in Chowdhury et al. 2024; ignored by IPO and hinge (TRL label_smoothing).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>bool, default true. Drops formatting tokens (headers, role names, eot; <c>ChatEncoding.IsFormatting</c>) from the
    /// chosen and rejected log-probs and from the NLL term: Llama 3 sec. 4.1.4 found that these shared tokens, pushed up and down
    /// at once, make the model tail-repeat or stop early.</summary>
    public bool MaskFormattingTokens { get; init; } = true;

    /// <summary>double, default 0.2. Weight of a per-token-normalised NLL term on the chosen responses added to the DPO loss
    /// (Llama 3 sec. 4.1.4, coefficient 0.2; Pang et al. 2024 RPO; TRL rpo_alpha). 0 disables it.</summary>
    public double NllWeight { get; init; } = 0.2;

    /// <summary>int, default 1. Passes over the pairs. Reference log-probs are computed once, before the first.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>int, default 8. Pairs per optimizer step; each step forwards 2 × BatchSize rows in one concatenated pass.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>double, default 1e-5. Peak AdamW learning rate; Llama 3 DPO uses 1e-5 (sec. 4.1.4).</summary>
    public double LearningRate { get; init; } = 1e-5;

    /// <summary><see cref="LearningRateScheduleKind"/>, default Cosine. Decay after warmup.</summary>
    public LearningRateScheduleKind LrScheduler { get; init; } = LearningRateScheduleKind.Cosine;

    /// <summary>double, default 0.1. Fraction of all steps spent in linear warmup (TRL warmup_ratio).</summary>
    public double WarmupRatio { get; init; } = 0.1;

    /// <summary>double, default 0.1. Final learning rate as a fraction of the peak.</summary>
    public double MinLearningRateRatio { get; init; } = 0.1;

    /// <summary>double, default 0.1. WarmupStableDecay only: fraction of the steps in the final decay (Hu et al. 2024, MiniCPM, sec. 4).</summary>
    public double WsdDecayFraction { get; init; } = 0.1;

    /// <summary>double, default 0.0. AdamW decoupled weight decay; TRL's default.</summary>
    public double WeightDecay { get; init; }

    /// <summary>double, default 0.9. AdamW β1.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>double, default 0.999. AdamW β2.</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>double, default 1e-8. AdamW ε.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>double, default 1.0. Global gradient-norm clip; 0 disables it.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>int, default 0 = the model's max_position_embeddings. Longer sequences are truncated from the right (TRL
    /// truncation_mode keep_start); a response left with no scored token is an error.</summary>
    public int MaxLength { get; init; }

    /// <summary>int, default 42. Seeds the pair shuffle and torch.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Throws naming the field, the actual value and what is expected.</summary>
    public DpoOptions Validate()
    {
        static void Check(bool ok, string field, object actual, string expected)
        {
            if (!ok) throw new ArgumentException($"DpoOptions.{field} is {actual}, expected {expected}");
        }
        Check(Beta > 0, nameof(Beta), Beta, "> 0");
        Check(Enum.IsDefined(LossType), nameof(LossType), LossType, string.Join("|", Enum.GetNames<DpoLossType>()));
        Check(LabelSmoothing is >= 0 and < 0.5, nameof(LabelSmoothing), LabelSmoothing, "in [0, 0.5)");
        Check(NllWeight >= 0, nameof(NllWeight), NllWeight, ">= 0");
        Check(Epochs >= 1, nameof(Epochs), Epochs, ">= 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        Check(LearningRate > 0, nameof(LearningRate), LearningRate, "> 0");
        Check(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), WarmupRatio, "in [0, 1)");
        Check(MinLearningRateRatio is >= 0 and <= 1, nameof(MinLearningRateRatio), MinLearningRateRatio, "in [0, 1]");
        Check(WsdDecayFraction is > 0 and <= 1, nameof(WsdDecayFraction), WsdDecayFraction, "in (0, 1]");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, ">= 0");
        Check(AdamBeta1 is >= 0 and < 1, nameof(AdamBeta1), AdamBeta1, "in [0, 1)");
        Check(AdamBeta2 is >= 0 and < 1, nameof(AdamBeta2), AdamBeta2, "in [0, 1)");
        Check(AdamEpsilon > 0, nameof(AdamEpsilon), AdamEpsilon, "> 0");
        Check(MaxGradNorm >= 0, nameof(MaxGradNorm), MaxGradNorm, ">= 0");
        Check(MaxLength >= 0, nameof(MaxLength), MaxLength, ">= 0");
        return this;
    }
}
