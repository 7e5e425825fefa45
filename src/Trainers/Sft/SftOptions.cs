namespace PostTrain.Trainers.Sft;

/// <summary>
/// Supervised fine-tuning options, after TRL's <c>SFTConfig</c>: the shared optimisation options of
/// <see cref="TrainerOptions"/> plus packing and held-out evaluation. Each option's doc is its only documentation: type,
/// default, meaning and source. Defaults follow Llama 3 post-training (Dubey et al. 2024, sec. 4.1.3) where it states one.
/// </summary>
public sealed record SftOptions : TrainerOptions
{
    /// <summary>bool, default false. Packs several examples into each row with a block-diagonal causal mask and positions that
    /// restart per example, so attention never crosses an example boundary (TRL packing with position_ids; Krell et al. 2021).</summary>
    public bool Packing { get; init; }

    /// <summary>int, default 0 = <see cref="TrainerOptions.MaxLength"/>. Row length for packing.</summary>
    public int PackingBlockSize { get; init; }

    /// <summary>int, default 0 = only at the end. Held-out loss every this many steps as well.</summary>
    public int EvalSteps { get; init; }

    /// <summary>Throws naming the field, the actual value and what is expected.</summary>
    public SftOptions Validate()
    {
        ValidateShared();
        Check(PackingBlockSize >= 0, nameof(PackingBlockSize), PackingBlockSize, ">= 0");
        Check(EvalSteps >= 0, nameof(EvalSteps), EvalSteps, ">= 0");
        return this;
    }
}
