namespace PostTrain.RewardModel;

/// <summary>Options of <see cref="RewardModelTrainer"/>. Defaults follow the Llama 2 reward model (Touvron et al. 2023, sec. 3.2.2) unless noted.</summary>
public sealed record RewardModelOptions
{
    /// <summary>Default 1e-5: Llama 2's peak rate for its RMs below 70B (5e-6 at 70B). Tiny demo models need ~1e-4.</summary>
    public double LearningRate { get; init; } = 1e-5;

    /// <summary>Default 1: Llama 2 trains one epoch, as "training longer can lead to over-fitting".</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Default 8 comparisons per optimizer step (Llama 2: 512 pairs). Chosen and rejected go through one forward, so a step forwards 2× this many rows.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Default 0.03: warm-up over 3% of the steps, then cosine decay (Llama 2).</summary>
    public double WarmupRatio { get; init; } = 0.03;

    /// <summary>Default 0.1: the cosine ends at 10% of the peak rate (Llama 2).</summary>
    public double MinLearningRateRatio { get; init; } = 0.1;

    /// <summary>Default 0.1, AdamW's decoupled weight decay (Loshchilov &amp; Hutter 2019), as Llama 2 pretraining; matrices only (not norms or embeddings).</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Default (0.9, 0.95): Llama 2's AdamW betas.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <inheritdoc cref="AdamBeta1"/>
    public double AdamBeta2 { get; init; } = 0.95;

    /// <summary>Default 1.0: global gradient-norm clip (Llama 2).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>
    /// Default false: when true the loss is −log σ(r_c − r_r − m) with each comparison's <see cref="RewardComparison.Margin"/>
    /// (Llama 2, eq. 2). Llama 3 (sec. 4.1.2) removed the margin term, "as we observe diminishing improvements after data scaling".
    /// </summary>
    public bool UseMargin { get; init; }

    /// <summary>
    /// Default 0 (off). Adds c·mean((r_c + r_r)²) to the loss so rewards stay centred at 0 (Eisenstein et al. 2023,
    /// "Helping or Herding?"); 0.01 is the usual value. Centred rewards are comparable across RMs and keep later
    /// stages' thresholds meaningful.
    /// </summary>
    public double CenteringCoefficient { get; init; }

    /// <summary>
    /// Default 0 (off, as Llama 2 and 3). Adds w × the next-token cross-entropy of each comparison's chosen response
    /// (prompt ids masked, as SFT) through the backbone's own LM head, the SFT regulariser of Yang et al. 2024
    /// ("Regularizing Hidden States Enables Learning Generalizable Reward Model for LLMs", GRM). Without it the
    /// Bradley–Terry gradient alone reshapes the backbone and erodes what the policy knew, which on checkable tasks is
    /// exactly what the reward model needs: to tell a right answer from a wrong one it must still be able to work it out.
    /// </summary>
    public double LanguageModelingWeight { get; init; }

    /// <summary>Default 0.05: share of comparisons held out for accuracy when the caller passes no held-out set.</summary>
    public double HeldOutFraction { get; init; } = 0.05;

    /// <summary>Default 64: comparisons per forward when measuring accuracy (no gradients, so larger than <see cref="BatchSize"/>).</summary>
    public int EvalBatchSize { get; init; } = 64;

    /// <summary>Default 0: seeds the shuffle and the held-out split (the head's init is seeded by <see cref="RewardModel.FromPolicy"/>).</summary>
    public int Seed { get; init; }

    /// <summary>Default 10: report progress every this many steps (and at the last step).</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Default 1. Each step's BatchSize comparisons are forwarded and backpropagated in this many micro-batches
    /// whose gradients add up before the one optimizer step (each weighted by its share of the comparisons): the same
    /// update with about 1/N of the activation memory.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Default 0 = the whole backbone trains. Rank of LoRA adapters (Hu et al. 2021) on the backbone's
    /// <see cref="LoraTargets"/>: the backbone is frozen, the adapters and the score head train, and the adapters are merged
    /// into the backbone when training ends.</summary>
    public int LoraRank { get; init; }

    /// <summary>Default 32. LoRA α; the adapters' update is scaled by α / r (PEFT lora_alpha).</summary>
    public double LoraAlpha { get; init; } = 32;

    /// <summary>Default all seven projections. Comma-separated Llama projections LoRA adapts (PEFT target_modules).</summary>
    public string LoraTargets { get; init; } = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj";

    /// <summary>The LoRA adapter these options ask for; null when <see cref="LoraRank"/> is 0.</summary>
    public PostTrain.Model.Lora.LoraConfig? Lora() => PostTrain.Model.Lora.LoraConfig.FromOptions(LoraRank, LoraAlpha, LoraTargets, nameof(RewardModelOptions));

    /// <summary>Throws naming the option, the actual value and what was expected.</summary>
    public RewardModelOptions Validate()
    {
        void Check(bool ok, string name, object actual, string expected)
        {
            if (!ok) throw new ArgumentException($"RewardModelOptions.{name} is {actual}, expected {expected}");
        }
        Check(LearningRate > 0, nameof(LearningRate), LearningRate, "> 0");
        Check(Epochs >= 1, nameof(Epochs), Epochs, ">= 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        Check(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), WarmupRatio, "in [0, 1)");
        Check(MinLearningRateRatio is >= 0 and <= 1, nameof(MinLearningRateRatio), MinLearningRateRatio, "in [0, 1]");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, ">= 0");
        Check(MaxGradNorm > 0, nameof(MaxGradNorm), MaxGradNorm, "> 0");
        Check(LanguageModelingWeight >= 0 && double.IsFinite(LanguageModelingWeight), nameof(LanguageModelingWeight), LanguageModelingWeight, "a finite value >= 0");
        Check(CenteringCoefficient >= 0, nameof(CenteringCoefficient), CenteringCoefficient, ">= 0");
        Check(HeldOutFraction is >= 0 and < 1, nameof(HeldOutFraction), HeldOutFraction, "in [0, 1)");
        Check(EvalBatchSize >= 1, nameof(EvalBatchSize), EvalBatchSize, ">= 1");
        Check(LogEvery >= 1, nameof(LogEvery), LogEvery, ">= 1");
        Check(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), GradientAccumulationSteps, ">= 1");
        Lora(); // checks LoraRank, LoraAlpha and LoraTargets
        return this;
    }
}
