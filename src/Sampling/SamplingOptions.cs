namespace PostTrain.Sampling;

/// <summary>Options of <see cref="Sampler"/>. Llama 2 (sec. 3.2.3) and Llama 3 (sec. 4.2.2) sample K responses per prompt from the latest policy and keep the best by reward.</summary>
public sealed record SamplingOptions
{
    /// <summary>Default 8 responses per prompt (N, Llama 2's K). Llama 3 sampled 10–30; more gives rejection sampling a better maximum at linear cost.</summary>
    public int SamplesPerPrompt { get; init; } = 8;

    /// <summary>
    /// Default 1.0: sample from the model's own distribution. 0 = greedy (argmax; every sample of a prompt is then
    /// the same). Llama 2 (fig. 8) found the best reward of N samples peaks at temperatures around 1.2–1.3 for RLHF'd models.
    /// </summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Default 1.0 (off): nucleus sampling (Holtzman et al. 2020) keeps the smallest set of tokens whose probability reaches this.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Default 0 (off): keep only the k most likely tokens (Fan et al. 2018).</summary>
    public int TopK { get; init; }

    /// <summary>Default 64 generated tokens per response at most (the stop token included). Rows also stop at max_position_embeddings.</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Default null: the chat template's stop ids (eot, end_of_text); without a template, the config's eos_token_id.</summary>
    public IReadOnlyList<int>? StopIds { get; init; }

    /// <summary>Default null: when set, a system message with this text is put before prompts that have none.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>
    /// Default 32 rows decoded together: the continuous batch's slots, max(1, BatchSize / SamplesPerPrompt) prompts' worth
    /// (so it can exceed this when N does). Each slot holds a K/V cache row of (prompt + MaxNewTokens) positions
    /// (<see cref="SamplingStats.KvBytesPerSlot"/>); a finished row's slot is refilled by the next prompt's rows.
    /// </summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Default 1 GiB: memory the continuous batch's K/V cache may hold (memory-aware admission). The slots are the smaller of
    /// <see cref="BatchSize"/>'s rows and this ÷ <see cref="SamplingStats.KvBytesPerSlot"/>, in whole prompts (N rows each);
    /// a budget too small for one prompt's N rows is an error. Llama-3.2-1B-shaped at 512 positions takes 32 MiB a slot, so
    /// the default holds 32 such slots; the demo presets fit thousands and are bounded by <see cref="BatchSize"/>.
    /// </summary>
    public long KvCacheBudgetBytes { get; init; } = 1L << 30;

    /// <summary>Default 0. Each (prompt id, sample index) draws from its own stream derived from (seed, prompt id, sample index), so responses do not depend on batch size, order or sharding.</summary>
    public long Seed { get; init; }

    /// <summary>Default 0: the post-training round recorded in each response's provenance.</summary>
    public int Round { get; init; }

    /// <summary>Throws naming the option, the actual value and what was expected.</summary>
    public SamplingOptions Validate()
    {
        void Check(bool ok, string name, object actual, string expected)
        {
            if (!ok) throw new ArgumentException($"SamplingOptions.{name} is {actual}, expected {expected}");
        }
        Check(SamplesPerPrompt >= 1, nameof(SamplesPerPrompt), SamplesPerPrompt, ">= 1");
        Check(Temperature >= 0 && double.IsFinite(Temperature), nameof(Temperature), Temperature, ">= 0 (0 = greedy)");
        Check(TopP is > 0 and <= 1, nameof(TopP), TopP, "in (0, 1]");
        Check(TopK >= 0, nameof(TopK), TopK, ">= 0 (0 = off)");
        Check(MaxNewTokens >= 1, nameof(MaxNewTokens), MaxNewTokens, ">= 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        Check(KvCacheBudgetBytes >= 1, nameof(KvCacheBudgetBytes), KvCacheBudgetBytes, ">= 1");
        Check(Round >= 0, nameof(Round), Round, ">= 0");
        return this;
    }
}
