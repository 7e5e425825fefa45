using PostTrain.Model.Prompts;
namespace PostTrain.Pretrain;

/// <summary>
/// Every knob of <see cref="Pretrainer"/>. Defaults are the tuned <c>small</c> demo: a few minutes on 2 CPU cores,
/// held-out loss far below the unigram entropy and most held-out tasks answered exactly. Recipe after Llama 3
/// (Dubey et al. 2024, "The Llama 3 Herd of Models", sec. 3.4): AdamW, linear warmup then cosine decay, gradient
/// clipping 1.0, weight decay 0.1, an annealing phase on upsampled high-quality data, and checkpoint averaging.
/// </summary>
public sealed record PretrainOptions
{
    /// <summary>Default "small". Network preset (<c>LlamaConfig.Preset</c>): tiny (tests, seconds), small (demo), medium (benchmarks).
    /// The vocab size is replaced by the tokenizer's.</summary>
    public string Preset { get; init; } = "small";

    /// <summary>Default: the preset's. Width of the network (hidden_size); the MLP keeps the preset's ratio to it
    /// (<see cref="Scaling.ScaledPreset"/>). The model sizes of a scaling-law grid.</summary>
    public int? HiddenSize { get; init; }

    /// <summary>Default: the preset's. Decoder blocks (num_hidden_layers).</summary>
    public int? Layers { get; init; }

    /// <summary>Default "runs/pretrain". Receives <c>checkpoints/step-NNNNNN/</c> and the final model in <c>final/</c>.</summary>
    public string OutputDir { get; init; } = Path.Combine("runs", "pretrain");

    /// <summary>Default 800 (1.6M tokens, ~3 epochs of the default corpus). Optimizer steps (each of <see cref="BatchSize"/> × <see cref="GradientAccumulation"/> sequences).</summary>
    public int Steps { get; init; } = 800;

    /// <summary>Default 16. Sequences per micro-batch: 16 × 128 = 2048 token slots a step, about 40 task conversations.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Default 128. Tokens per training row; a task conversation is 30–60 tokens, so a row holds two or three
    /// whole conversations and little padding. Must not exceed the preset's max_position_embeddings.</summary>
    public int SequenceLength { get; init; } = 128;

    /// <summary>Default 1. Micro-batches summed into one optimizer step; raises the effective batch without memory.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Default 3e-3. Peak learning rate; small models tolerate rates ~10× Llama 3 405B's 8e-5.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Default 0.1. Final learning rate as a fraction of the peak (Chinchilla and Llama decay to ~10%).</summary>
    public double MinLrRatio { get; init; } = 0.1;

    /// <summary>Default 40. Linear warmup steps from 0 to the peak, so Adam's second moments settle before big steps.</summary>
    public int WarmupSteps { get; init; } = 40;

    /// <summary>Default "cosine". "cosine": warmup then cosine decay to the min (Llama 3). "wsd": warmup-stable-decay
    /// (Hu et al. 2024, MiniCPM): constant peak, then decay over the last <see cref="AnnealFraction"/> of steps, the
    /// phase that lines up with annealing.</summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Default: <see cref="AnnealFraction"/>, so the decay lines up with the annealing mix. WSD only: the
    /// fraction of the final steps over which the rate falls from the peak to the min (MiniCPM finds about 10% enough,
    /// Hu et al. 2024 sec. 4). In (0, 1].</summary>
    public double? DecayFraction { get; init; }

    /// <summary>Default 0.1 (Llama 3). Decoupled weight decay (Loshchilov &amp; Hutter 2019); not applied to norms or embeddings.</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Default 0.9. Adam β1.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>Default 0.95 (Llama, GPT-3): a shorter second-moment memory than 0.999 reacts to loss spikes.</summary>
    public double AdamBeta2 { get; init; } = 0.95;

    /// <summary>Default 1.0 (Llama 3). Global gradient-norm clip; 0 disables.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Default 0.2. Fraction of the final steps that anneal: batches are drawn from the corpus with the
    /// high-quality subset (the harder task kinds) upsampled, as Llama 3 anneals on high-quality data (sec. 3.4.3). 0 disables.</summary>
    public double AnnealFraction { get; init; } = 0.2;

    /// <summary>Default 3. How many times the high-quality subset is repeated in the annealing mix (1 = no upsampling).</summary>
    public int AnnealUpsample { get; init; } = 3;

    /// <summary>Default none. SFT JSONL files (<c>{"prompt":[messages],"response":...}</c>, as the Sft stage reads) whose
    /// conversations join the annealing mix, as MiniCPM mixes SFT data into its decay phase (Hu et al. 2024 sec. 5);
    /// they are never trained on before the annealing phase.</summary>
    public IReadOnlyList<string> AnnealSftFiles { get; init; } = [];

    /// <summary>Default 1. How many times each <see cref="AnnealSftFiles"/> conversation appears in the annealing mix.</summary>
    public int AnnealSftUpsample { get; init; } = 1;

    /// <summary>Default 3. The final model is the average of the last K checkpoints (Llama 3 averages checkpoints
    /// of the annealing phase; Izmailov et al. 2018 SWA). 1 = the last weights as is.</summary>
    public int AverageLastK { get; init; } = 3;

    /// <summary>Default 50. Save a checkpoint (weights + optimizer + step) every N steps; the last step is always saved.</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>Default false. Continue from the newest checkpoint in <see cref="OutputDir"/>; the result equals an
    /// uninterrupted run with the same options (weights, optimizer moments, step and data position are restored).</summary>
    public bool Resume { get; init; }

    /// <summary>Default 1234. Seeds weight init and the data order. Same seed and thread count → same weights.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Default "cpu". "cpu" or "cuda" (or "cuda:N").</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Default: the core count. torch intra-op threads; results are bitwise reproducible for a fixed count only.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Default: the preset's vocab_size. Target size of the byte-level BPE trained when the output has no tokenizer.</summary>
    public int? TokenizerVocabSize { get; init; }

    /// <summary>Default 12000. Generated task conversations in the embedded corpus (ignored with <see cref="DataFiles"/>).</summary>
    public int CorpusSize { get; init; } = 12000;

    /// <summary>Default 2 (the TaskGenerator default the later stages use: numbers up to 3 digits). Difficulty of the embedded task corpus.</summary>
    public int TaskDifficulty { get; init; } = 2;

    /// <summary>Default false (the answer alone). Numeric answers of the embedded corpus in the worked form "521 reversed is 125"
    /// (<see cref="PostTrain.Model.Prompts.ReversedAnswer"/>); a task set's corpus recipe sets it.</summary>
    public bool TaskReversedDigits { get; init; }

    /// <summary>Default false (products answered alone). Products of the embedded corpus in the worked form
    /// "7 * 8 = 56, 7 * 3 + 5 = 26, so 266" (<see cref="PostTrain.Model.Prompts.WorkedProduct"/>); a task set's corpus recipe sets it.</summary>
    public bool TaskWorkedProducts { get; init; }

    /// <summary>Default false (a plain draw of distinct prompts). Every kind an equal share of the embedded corpus, a kind with
    /// fewer distinct prompts repeated (<see cref="PostTrain.Model.Prompts.PretrainCorpusOptions.BalancedKinds"/>); a task set's corpus recipe sets it.</summary>
    public bool TaskBalancedKinds { get; init; }

    /// <summary>Default Multiplication and WordProblem: the kinds that need more than one digit-wise pass. The
    /// high-quality subset the annealing phase upsamples.</summary>
    public IReadOnlyList<PostTrain.Model.Prompts.TaskKind> AnnealKinds { get; init; } =
        [PostTrain.Model.Prompts.TaskKind.Multiplication, PostTrain.Model.Prompts.TaskKind.WordProblem];

    /// <summary>Default none (embedded task corpus). Your own text: .txt (one document per blank-line-separated block)
    /// or .jsonl (a "text" field per line).</summary>
    public IReadOnlyList<string> DataFiles { get; init; } = [];

    /// <summary>Default 0.05. Fraction of user documents kept out of training for held-out loss (embedded corpus: its own held-out set).</summary>
    public double HeldOutFraction { get; init; } = 0.05;

    /// <summary>Default 200. Evaluate held-out loss every N steps (and always at the end); 0 = only at the end.</summary>
    public int EvalEvery { get; init; } = 200;

    /// <summary>Default 200. Held-out tasks answered greedily at the end for exact-match accuracy; 0 skips it.</summary>
    public int ExactMatchTasks { get; init; } = 200;

    /// <summary>Default 32 (evaluation's budget). Generation budget per held-out task; the longest built-in answer, a worked product, is 27 tokens.</summary>
    public int ExactMatchMaxNewTokens { get; init; } = PostTrain.Sampling.GreedyResponses.EvaluationMaxNewTokens;

    /// <summary>Checks every option; throws naming the option, its value and what was expected.</summary>
    public PretrainOptions Validate()
    {
        void Check(bool ok, string name, object? value, string expected)
        {
            if (!ok) throw new ArgumentException($"option {name} is {value ?? "null"}, expected {expected}", name);
        }
        Check(Model.LlamaConfig.PresetNames.Contains(Preset), nameof(Preset), Preset, $"one of {string.Join(", ", Model.LlamaConfig.PresetNames)}");
        Check(HiddenSize is null or > 0, nameof(HiddenSize), HiddenSize, "> 0 (a multiple of twice the preset's heads)");
        Check(Layers is null or > 0, nameof(Layers), Layers, ">= 1");
        Check(!string.IsNullOrWhiteSpace(OutputDir), nameof(OutputDir), OutputDir, "a directory path");
        Check(Steps >= 1, nameof(Steps), Steps, ">= 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        Check(SequenceLength >= 2, nameof(SequenceLength), SequenceLength, ">= 2");
        Check(GradientAccumulation >= 1, nameof(GradientAccumulation), GradientAccumulation, ">= 1");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "> 0");
        Check(MinLrRatio is >= 0 and <= 1, nameof(MinLrRatio), MinLrRatio, "in [0, 1]");
        Check(WarmupSteps >= 0 && WarmupSteps < Steps, nameof(WarmupSteps), WarmupSteps, $"in [0, {Steps})");
        Check(Schedule is "cosine" or "wsd", nameof(Schedule), Schedule, "cosine or wsd");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, ">= 0");
        Check(AdamBeta1 is >= 0 and < 1, nameof(AdamBeta1), AdamBeta1, "in [0, 1)");
        Check(AdamBeta2 is >= 0 and < 1, nameof(AdamBeta2), AdamBeta2, "in [0, 1)");
        Check(MaxGradNorm >= 0, nameof(MaxGradNorm), MaxGradNorm, ">= 0");
        Check(AnnealFraction is >= 0 and < 1, nameof(AnnealFraction), AnnealFraction, "in [0, 1)");
        Check(AnnealUpsample >= 1, nameof(AnnealUpsample), AnnealUpsample, ">= 1");
        Check(DecayFraction is null or (> 0 and <= 1), nameof(DecayFraction), DecayFraction, "in (0, 1]");
        Check(AnnealSftUpsample >= 1, nameof(AnnealSftUpsample), AnnealSftUpsample, ">= 1");
        Check(AnnealSftFiles.Count == 0 || AnnealFraction > 0, nameof(AnnealSftFiles), string.Join(", ", AnnealSftFiles), "none while AnnealFraction is 0 (there is no annealing phase to mix them into)");
        Check(AverageLastK >= 1, nameof(AverageLastK), AverageLastK, ">= 1");
        Check(CheckpointEvery >= 1, nameof(CheckpointEvery), CheckpointEvery, ">= 1");
        Check(Threads >= 1, nameof(Threads), Threads, ">= 1");
        Check(TokenizerVocabSize is null or >= 262, nameof(TokenizerVocabSize), TokenizerVocabSize, ">= 262 (256 bytes + 6 specials)");
        Check(TaskDifficulty is >= 1 and <= 6, nameof(TaskDifficulty), TaskDifficulty, "in [1, 6]");
        Check(CorpusSize >= 1, nameof(CorpusSize), CorpusSize, ">= 1");
        Check(HeldOutFraction is > 0 and < 1, nameof(HeldOutFraction), HeldOutFraction, "in (0, 1)");
        Check(EvalEvery >= 0, nameof(EvalEvery), EvalEvery, ">= 0");
        Check(ExactMatchTasks >= 0, nameof(ExactMatchTasks), ExactMatchTasks, ">= 0");
        Check(ExactMatchMaxNewTokens >= 1, nameof(ExactMatchMaxNewTokens), ExactMatchMaxNewTokens, ">= 1");
        return this;
    }
}
