namespace PostTrain.Sampling;

/// <summary>Throughput of one sampling run.</summary>
/// <param name="Prompts">Prompts sampled.</param>
/// <param name="Sequences">Responses generated (prompts × N).</param>
/// <param name="PrefillTokens">Prompt tokens forwarded (each prompt once, not once per sample).</param>
/// <param name="GeneratedTokens">Tokens generated over all responses.</param>
/// <param name="Seconds">Wall-clock time.</param>
public sealed record SamplingStats(int Prompts, int Sequences, long PrefillTokens, long GeneratedTokens, double Seconds)
{
    /// <summary>Generated tokens per second of wall time.</summary>
    public double TokensPerSecond => Seconds > 0 ? GeneratedTokens / Seconds : 0;

    /// <summary>Seconds in prefill (prompts admitted into slots), in choosing tokens from logits (softmax, filters, noise,
    /// the finished check) and in one-token forwards. Their sum is the decode loop; the rest of <see cref="Seconds"/> is bookkeeping.</summary>
    public double PrefillSeconds { get; init; }
    public double SelectSeconds { get; init; }
    public double ForwardSeconds { get; init; }

    /// <summary>One-token forwards of the decode loop, and how many of them ran on the CPU fast path (<c>CpuForward</c>: float32 on
    /// the CPU without forward hooks on the projections) rather than the reference forward.</summary>
    public long DecodeSteps { get; init; }
    public long FastDecodeSteps { get; init; }

    /// <summary>Prompts prefilled on the CPU fast path; the rest took the reference forward.</summary>
    public long FastPrefillPrompts { get; init; }

    /// <summary>
    /// Seconds spent setting the decoder up and taking it down: allocating the K/V cache (on this VM first touch of its pages
    /// costs about 1.6 ms a MB: 1.1 s for the medium preset's 672 MB at 384 slots) and packing the weights for the CPU kernels.
    /// Paid once per call however many prompts it samples.
    /// </summary>
    public double SetupSeconds { get; init; }

    /// <summary>Generated tokens per second with prefills but without setup: the rate a long run approaches, its one-time
    /// setup spread over many prompts.</summary>
    public double SustainedTokensPerSecond => Seconds - SetupSeconds is var s && s > 0 ? GeneratedTokens / s : 0;

    /// <summary>Generated tokens per second of the decode loop alone (prefill and setup excluded).</summary>
    public double DecodeTokensPerSecond => Seconds - PrefillSeconds - SetupSeconds is var s && s > 0 ? GeneratedTokens / s : 0;

    /// <summary>Rows decoded together (the continuous batch's fixed slot count).</summary>
    public int Slots { get; init; }

    /// <summary>What fixed <see cref="Slots"/>: <see cref="ByBatchSize"/>, <see cref="ByMemoryBudget"/> (memory-aware admission) or
    /// <see cref="ByPrompts"/> (fewer prompts × N than either allows).</summary>
    public string SlotsLimitedBy { get; init; } = ByBatchSize;

    public const string ByBatchSize = "batch_size", ByMemoryBudget = "kv_cache_budget", ByPrompts = "prompts";

    /// <summary>Keys and values one slot holds at its full length: slots × this is the cache's memory, the figure admission sizes against.</summary>
    public long KvBytesPerSlot { get; init; }

    /// <summary>The K/V cache's memory: <see cref="Slots"/> × <see cref="KvBytesPerSlot"/>.</summary>
    public long KvCacheBytes => Slots * KvBytesPerSlot;
}
