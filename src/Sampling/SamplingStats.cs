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

    /// <summary>Rows decoded together (the continuous batch's fixed slot count).</summary>
    public int Slots { get; init; }

    /// <summary>Keys and values one slot holds at its full length: slots × this is the cache's memory, the figure admission sizes against.</summary>
    public long KvBytesPerSlot { get; init; }
}
