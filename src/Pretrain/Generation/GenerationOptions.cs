namespace PostTrain.Pretrain.Generation;

/// <summary>How <see cref="TokenGenerator"/> picks each next token.</summary>
public sealed record GenerationOptions
{
    /// <summary>Default 64. Upper bound on generated tokens; also capped by the model's max_position_embeddings.</summary>
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Default 0 (greedy: argmax, deterministic). Above 0 the logits are divided by it before sampling.</summary>
    public double Temperature { get; init; }

    /// <summary>Default 1.0 (off). Nucleus sampling (Holtzman et al. 2019, "The Curious Case of Neural Text
    /// Degeneration"): sample only from the smallest set of tokens whose probability sums to at least this.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Default 0. Seeds the sampling generator, so a (model, prompt, options) triple always yields the same tokens.</summary>
    public long Seed { get; init; }

    /// <summary>Default none. Generation ends after emitting one of these (the stop token is kept in the output).</summary>
    public IReadOnlyCollection<int> StopIds { get; init; } = [];

    public GenerationOptions Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, $"max new tokens is {MaxNewTokens}, expected >= 1");
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, $"temperature is {Temperature}, expected a finite value >= 0");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, $"top-p is {TopP}, expected in (0, 1]");
        return this;
    }
}
