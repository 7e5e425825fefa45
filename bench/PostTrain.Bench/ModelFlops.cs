using PostTrain.Model;

namespace PostTrain.Bench;

/// <summary>
/// FLOP accounting. N = non-embedding parameters + the LM head (V·C, counted even when tied to the embedding, because
/// the head is a GEMM and the embedding lookup is not). Training FLOPs per token = 6·N (Kaplan et al. 2020: 2 forward
/// + 4 backward per parameter) + 12·L·T·C attention (QK^T and AV, forward + backward; PaLM appendix B, nanoGPT
/// estimate_mfu). T is the row length, counted in full: the causal half that SDPA may skip is not subtracted.
/// </summary>
internal static class ModelFlops
{
    public static long Params(LlamaConfig c)
    {
        long C = c.HiddenSize, I = c.IntermediateSize, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        var perLayer = C * C /*q*/ + 2 * C * kv /*k,v*/ + C * C /*o*/ + 3 * C * I /*gate,up,down*/ + 2 * C /*norms*/;
        return c.NumHiddenLayers * perLayer + C /*final norm*/ + (long)c.VocabSize * C /*lm_head*/;
    }

    public static double TrainingPerToken(LlamaConfig c, int seqLen) =>
        6.0 * Params(c) + 12.0 * c.NumHiddenLayers * seqLen * c.HiddenSize;

    public static double ForwardPerToken(LlamaConfig c, int seqLen) =>
        2.0 * Params(c) + 4.0 * c.NumHiddenLayers * seqLen * c.HiddenSize;

    /// <summary>Bytes a decode step must read at least: every weight of the matmuls once, plus the K and V of every cached
    /// position of every row (fp32). Embedding rows read are negligible.</summary>
    public static double DecodeBytes(LlamaConfig c, long batch, double cachedPositions) =>
        4.0 * Params(c) + 4.0 * 2 * c.NumHiddenLayers * batch * c.NumKeyValueHeads * c.HeadDim * cachedPositions;
}
