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
}
