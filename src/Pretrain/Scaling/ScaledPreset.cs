using PostTrain.Model;

namespace PostTrain.Pretrain.Scaling;

/// <summary>
/// A preset's network at another width or depth, for the model sizes of a scaling-law grid: heads, key/value heads,
/// positions and norms stay the preset's; the MLP keeps the preset's ratio of intermediate to hidden size (rounded
/// to a multiple of 16, as LLaMA rounds its 8/3·C).
/// </summary>
public static class ScaledPreset
{
    public static LlamaConfig For(string preset, int? hiddenSize = null, int? layers = null)
    {
        var config = LlamaConfig.Preset(preset);
        if (hiddenSize is null && layers is null) return config;
        var hidden = hiddenSize ?? config.HiddenSize;
        if (hidden <= 0 || hidden % config.NumAttentionHeads != 0 || hidden / config.NumAttentionHeads % 2 != 0)
            throw new ArgumentException($"hidden size {hidden} must be a positive multiple of 2 × {config.NumAttentionHeads} (preset {preset}'s heads; RoPE rotates pairs)", nameof(hiddenSize));
        if (layers is <= 0)
            throw new ArgumentException($"layers {layers} must be >= 1", nameof(layers));
        var ratio = (double)config.IntermediateSize / config.HiddenSize;
        var intermediate = Math.Max(16, (int)Math.Round(ratio * hidden / 16) * 16);
        return (config with { HiddenSize = hidden, IntermediateSize = intermediate, NumHiddenLayers = layers ?? config.NumHiddenLayers }).Validate($"preset {preset} at hidden size {hidden}");
    }

    /// <summary>Parameters outside the token embedding and the output head: Kaplan et al. (2020) count N this way,
    /// which keeps small models, whose embeddings dominate, on one power law.</summary>
    public static long NonEmbeddingParameters(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.ParameterShapes()
            .Where(p => p.Key is not ("model.embed_tokens.weight" or "lm_head.weight"))
            .Sum(p => p.Value.Aggregate(1L, (a, b) => a * b));
    }

    /// <summary>N and D of the run these options describe, known before it runs: the network the pretrainer builds
    /// (<see cref="For"/>) and the token slots it trains on (every step fills BatchSize × SequenceLength ×
    /// GradientAccumulation slots; packing leaves only a row's tail unfilled).</summary>
    public static (long Parameters, long Tokens) SizeOf(PretrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var parameters = NonEmbeddingParameters(For(options.Preset, options.HiddenSize, options.Layers));
        return (parameters, (long)options.Steps * options.BatchSize * options.SequenceLength * options.GradientAccumulation);
    }
}
