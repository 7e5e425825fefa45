using PostTrain.Model.Training;

namespace PostTrain.Trainers;

/// <summary>
/// The optimisation options SFT and DPO share, after the Hugging Face <c>TrainingArguments</c> that TRL's <c>SFTConfig</c>
/// and <c>DPOConfig</c> both extend. Each option's doc is its only documentation: type, default, meaning and paper. Defaults
/// follow Llama 3 post-training (Dubey et al. 2024, sec. 4.1.3 SFT, sec. 4.1.4 DPO) where it states one.
/// </summary>
public abstract record TrainerOptions
{
    /// <summary>int, default 1. Passes over the training examples (SFT) or pairs (DPO; reference log-probs are computed
    /// once, before the first).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>int, default 8. Items per optimizer step (TRL per_device_train_batch_size). SFT: examples; with packing, the
    /// examples of one step are packed into as few rows as fit. DPO: pairs; each step forwards 2 × BatchSize rows in one
    /// concatenated pass.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>double, default 1e-5. Peak AdamW learning rate; Llama 3 uses 1e-5 for SFT (sec. 4.1.3) and DPO (sec. 4.1.4).</summary>
    public double LearningRate { get; init; } = 1e-5;

    /// <summary><see cref="LearningRateScheduleKind"/>, default Cosine. Decay after warmup: cosine (Llama 3) or warmup-stable-decay.</summary>
    public LearningRateScheduleKind LrScheduler { get; init; } = LearningRateScheduleKind.Cosine;

    /// <summary>double, default 0.1. Fraction of all steps spent in linear warmup (TRL warmup_ratio).</summary>
    public double WarmupRatio { get; init; } = 0.1;

    /// <summary>double, default 0.1. Final learning rate as a fraction of the peak (cosine floor, WSD end point).</summary>
    public double MinLearningRateRatio { get; init; } = 0.1;

    /// <summary>double, default 0.1. WarmupStableDecay only: fraction of the steps in the final decay (Hu et al. 2024, MiniCPM, sec. 4).</summary>
    public double WsdDecayFraction { get; init; } = 0.1;

    /// <summary>double, default 0.0. AdamW decoupled weight decay (Loshchilov &amp; Hutter 2019); TRL's default.</summary>
    public double WeightDecay { get; init; }

    /// <summary>double, default 0.9. AdamW β1.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>double, default 0.999. AdamW β2 (Hugging Face Trainer default).</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>double, default 1e-8. AdamW ε.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>double, default 1.0. Global gradient-norm clip; 0 disables it (HF Trainer max_grad_norm).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>int, default 0 = the model's max_position_embeddings. Longer sequences are truncated from the right (TRL
    /// max_length, truncation_mode keep_start); an SFT example left with no response token, or a DPO response left with no
    /// scored token, is an error.</summary>
    public int MaxLength { get; init; }

    /// <summary>int, default 42. Seeds the example or pair shuffle and torch.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>int, default 1. Each step's BatchSize items are forwarded and backpropagated in this many micro-batches whose
    /// gradients add up before the one optimizer step: the same update (each micro-batch's loss is weighted by its share of
    /// the batch) with about 1/N of the activation memory. HF's per_device_train_batch_size is then BatchSize / N.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>int, default 0 = full fine-tuning. Rank r of LoRA adapters (Hu et al. 2021) on <see cref="LoraTargets"/>: the
    /// base weights are frozen and only the adapters train (AdamW state for 11M instead of 1.2B parameters on Llama-3.2-1B),
    /// then they are merged into the saved checkpoint.</summary>
    public int LoraRank { get; init; }

    /// <summary>double, default 32. LoRA α; the adapters' update is scaled by α / r (PEFT lora_alpha).</summary>
    public double LoraAlpha { get; init; } = 32;

    /// <summary>string, default all seven projections. Comma-separated Llama projections LoRA adapts (PEFT target_modules);
    /// adapting all of them, not only q and v, is what matched full fine-tuning in QLoRA (Dettmers et al. 2023, sec. 4).</summary>
    public string LoraTargets { get; init; } = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj";

    /// <summary>The LoRA adapter these options ask for; null when <see cref="LoraRank"/> is 0.</summary>
    public PostTrain.Model.Lora.LoraConfig? Lora() => PostTrain.Model.Lora.LoraConfig.FromOptions(LoraRank, LoraAlpha, LoraTargets, GetType().Name);

    /// <summary>Throws unless every shared option is in range; the derived record's <c>Validate</c> adds its own checks.</summary>
    protected void ValidateShared()
    {
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
        Check(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), GradientAccumulationSteps, ">= 1");
        Lora(); // checks LoraRank, LoraAlpha and LoraTargets
    }

    /// <summary>Throws naming the record and field (<c>SftOptions.Epochs</c>), the actual value and what is expected.</summary>
    protected void Check(bool ok, string field, object actual, string expected)
    {
        if (!ok) throw new ArgumentException($"{GetType().Name}.{field} is {actual}, expected {expected}");
    }
}
