using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Model.Diagnostics;

/// <summary>
/// Layer-wise cosine similarity between each decoder block's input and output hidden states (MiniCPM, Hu et al. 2024;
/// Yi, Young et al. 2024; Gromov et al. 2024 "The Unreasonable Ineffectiveness of the Deeper Layers"): a block whose
/// output points where its input did (cosine near 1) changes little, a sign of an under-used or redundant layer.
/// </summary>
public static class LayerSimilarity
{
    /// <summary>The residual stream: the embedding (block 0's input) and each block's output, L + 1 tensors (B, T, C),
    /// computed as <see cref="LlamaModel.forward"/> does (plain causal attention, positions 0..T-1), without the final norm.</summary>
    public static IReadOnlyList<Tensor> HiddenStates(LlamaForCausalLM model, Tensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputIds);
        var c = model.Config;
        var (B, T) = (inputIds.shape[0], inputIds.shape[1]);
        if (T > c.MaxPositionEmbeddings) throw new ArgumentException($"cannot forward {T} positions, max_position_embeddings is only {c.MaxPositionEmbeddings}", nameof(inputIds));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // The rotary tables have no weights, so a fresh module gives exactly the model's.
        using var rotary = new RotaryEmbedding(c.HeadDim, c.RopeTheta);
        rotary.to(inputIds.device);
        var (cos, sin) = rotary.forward(arange(T, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0).expand(B, T));
        var states = new List<Tensor> { model.model.embed_tokens.forward(inputIds) }; // (B, T, C)
        for (var i = 0; i < model.model.layers.Count; i++)
            states.Add(model.model.layers[i].forward(states[^1], cos, sin, null, null, i));
        foreach (var s in states) s.MoveToOuterDisposeScope();
        return states;
    }

    /// <summary>Mean over positions of cos(h_in, h_out) for each block, in layer order; <paramref name="keep"/> (B, T)
    /// bool restricts the mean to real tokens (null = every position).</summary>
    public static double[] BlockCosines(LlamaForCausalLM model, Tensor inputIds, Tensor? keep = null)
    {
        var states = HiddenStates(model, inputIds);
        try
        {
            using var scope = NewDisposeScope();
            var weight = keep is null ? ones(inputIds.shape[0], inputIds.shape[1], device: inputIds.device) : keep.to_type(ScalarType.Float32);
            var result = new double[states.Count - 1];
            for (var i = 0; i < result.Length; i++)
            {
                var cosine = F.cosine_similarity(states[i], states[i + 1], dim: -1); // (B, T)
                result[i] = ((cosine * weight).sum() / weight.sum().clamp_min(1)).item<float>();
            }
            return result;
        }
        finally
        {
            foreach (var s in states) s.Dispose();
        }
    }

    /// <summary>
    /// <see cref="BlockCosines"/> over whole conversations (each encoded by <paramref name="template"/>, cut to the
    /// model's positions, right-padded into one batch, padding left out of the mean): the figure per checkpoint that the
    /// workflow records. Right padding cannot change a real position under the causal mask.
    /// </summary>
    public static double[] OnConversations(LlamaForCausalLM model, Tokenization.ChatTemplate template,
        IReadOnlyList<(IReadOnlyList<Tokenization.ChatMessage> Prompt, string Response)> conversations)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(conversations);
        if (conversations.Count == 0) throw new ArgumentException("no conversations to measure, expected at least 1", nameof(conversations));
        var max = model.Config.MaxPositionEmbeddings;
        var encoded = conversations.Select(c => template.EncodeExample(c.Prompt, c.Response).Ids.Take(max).ToArray()).ToList();
        var T = encoded.Max(e => e.Length);
        var ids = new long[encoded.Count * T];
        var keep = new bool[encoded.Count * T];
        for (var b = 0; b < encoded.Count; b++)
            for (var t = 0; t < encoded[b].Length; t++)
                (ids[b * T + t], keep[b * T + t]) = (encoded[b][t], true);
        using var scope = NewDisposeScope();
        var device = model.parameters().First().device;
        return BlockCosines(model, tensor(ids, [encoded.Count, T]).to(device), tensor(keep, [encoded.Count, T]).to(device));
    }
}
