using PostTrain.Model.Tokenization;

namespace PostTrain.Trainers;

/// <summary>
/// Next-token targets aligned with logits: the target at position t is the id at t + 1, or
/// <see cref="IgnoreIndex"/> where no loss is taken (prompt, padding, packing boundaries, masked formatting).
/// Shifting per example, before padding or packing, means a packed row never asks one example to predict the next.
/// </summary>
public static class TokenTargets
{
    /// <summary>PyTorch's cross-entropy ignore_index, as Hugging Face labels use it.</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Targets (length = ids length) for <paramref name="encoding"/>: response ids (at or after
    /// <see cref="ChatEncoding.PromptLength"/>) are targets; with <paramref name="maskFormatting"/> ids flagged
    /// <see cref="ChatEncoding.IsFormatting"/> are ignored too (Llama 3 sec. 4.1.4: header and eot tokens are masked
    /// out of the DPO loss because chosen and rejected share them).
    /// </summary>
    public static int[] Response(ChatEncoding encoding, bool maskFormatting = false)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        var n = encoding.Ids.Length;
        if (encoding.IsFormatting.Length != n)
            throw new ArgumentException($"ChatEncoding has {n} ids but {encoding.IsFormatting.Length} formatting flags, expected equal lengths", nameof(encoding));
        if (encoding.PromptLength < 1 || encoding.PromptLength > n)
            throw new ArgumentException($"ChatEncoding.PromptLength is {encoding.PromptLength}, expected 1..{n} (ids length)", nameof(encoding));
        var targets = new int[n];
        for (var t = 0; t < n; t++)
        {
            var next = t + 1;
            targets[t] = next < n && next >= encoding.PromptLength && !(maskFormatting && encoding.IsFormatting[next])
                ? encoding.Ids[next]
                : IgnoreIndex;
        }
        return targets;
    }
}
