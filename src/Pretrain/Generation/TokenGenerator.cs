using PostTrain.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Pretrain.Generation;

/// <summary>
/// Single-sequence autoregressive decoding with a KV cache: the prompt is prefilled in one forward, then one token
/// per step. Greedy at temperature 0, otherwise temperature plus optional top-p sampling from a seeded generator.
/// Batched N-per-prompt sampling lives in PostTrain.Sampling; this is the simple path for evaluation and the CLI.
/// </summary>
public static class TokenGenerator
{
    public static GenerationResult Generate(LlamaForCausalLM model, IReadOnlyList<int> promptIds, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(promptIds);
        options.Validate();
        var config = model.Config;
        if (promptIds.Count == 0) throw new ArgumentException("prompt is empty, expected at least one token id", nameof(promptIds));
        foreach (var id in promptIds)
            if ((uint)id >= (uint)config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(promptIds), id, $"prompt token id {id} is outside the vocabulary [0, {config.VocabSize})");
        if (promptIds.Count >= config.MaxPositionEmbeddings)
            throw new ArgumentException($"prompt has {promptIds.Count} tokens, max_position_embeddings is only {config.MaxPositionEmbeddings}", nameof(promptIds));

        var maxNew = Math.Min(options.MaxNewTokens, config.MaxPositionEmbeddings - promptIds.Count);
        var device = model.model.embed_tokens.weight!.device;
        using var _ = no_grad();
        using var cache = new KvCache(config, 1, promptIds.Count + maxNew, device);
        using var generator = options.Temperature > 0 ? new Generator((ulong)options.Seed, device) : null;
        var stops = options.StopIds as ISet<int> ?? options.StopIds.ToHashSet();
        var tokens = new List<int>(maxNew);
        var logProbs = new List<float>(maxNew);
        var input = tensor(promptIds.Select(i => (long)i).ToArray(), [1, promptIds.Count], ScalarType.Int64, device).DetachFromDisposeScope();
        var stopped = false;
        try
        {
            for (var step = 0; step < maxNew; step++)
            {
                using var scope = NewDisposeScope();
                var logits = model.forward(input, cache: cache)[0, -1];      // (V,)
                var logp = logits.log_softmax(-1);                           // (V,)
                var next = options.Temperature == 0 ? logits.argmax().item<long>() : Sample(logits, options, generator!);
                tokens.Add((int)next);
                logProbs.Add(logp[next].item<float>());
                input.Dispose();
                input = tensor(new[] { next }, [1, 1], ScalarType.Int64, device).DetachFromDisposeScope();
                if (stops.Contains((int)next)) { stopped = true; break; }
            }
        }
        finally { input.Dispose(); }
        return new GenerationResult(promptIds.ToArray(), tokens.ToArray(), logProbs.ToArray(), stopped);
    }

    /// <summary>Temperature then nucleus filtering over logits (V,); returns the sampled id.</summary>
    internal static long Sample(Tensor logits, GenerationOptions options, Generator generator)
    {
        var probs = (logits / options.Temperature).softmax(-1);          // (V,)
        if (options.TopP < 1)
        {
            var (sorted, indices) = probs.sort(descending: true);        // (V,), (V,)
            // Drop a token when the mass before it already reaches top-p; the first token always survives.
            var before = sorted.cumsum(0) - sorted;
            sorted = sorted.masked_fill(before.ge(options.TopP), 0);
            var pick = multinomial(sorted / sorted.sum(), 1, generator: generator);
            return indices[pick[0]].item<long>();
        }
        return multinomial(probs, 1, generator: generator)[0].item<long>();
    }
}
