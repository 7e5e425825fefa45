namespace PostTrain.Model.Tokenization;

/// <summary>
/// A templated conversation as ids, with the two masks the trainers need: SFT learns from ids at or after
/// <see cref="PromptLength"/>; DPO additionally drops <see cref="IsFormatting"/> tokens from the log-probs
/// (Llama 3 paper, sec. 4.1.4: masking formatting tokens stabilises DPO because chosen and rejected share them).
/// </summary>
/// <param name="Ids">Token ids, bos first.</param>
/// <param name="IsFormatting">Per id: bos, header start/end, role-name and header-newline tokens, eot.</param>
/// <param name="PromptLength">How many ids come before the first response token (the assistant header included).</param>
public sealed record ChatEncoding(int[] Ids, bool[] IsFormatting, int PromptLength)
{
    public int Length => Ids.Length;
}
