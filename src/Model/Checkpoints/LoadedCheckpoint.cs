using PostTrain.Model.Tokenization;
using static TorchSharp.torch;

namespace PostTrain.Model.Checkpoints;

/// <summary>
/// What <see cref="Checkpoint.Load"/> returns. <paramref name="Extra"/> holds tensors saved beside the network
/// (e.g. a reward model's <c>score.weight</c>); <paramref name="Hash"/> is the SHA-256 of the manifest, a stable
/// identity of the checkpoint's contents.
/// </summary>
public sealed record LoadedCheckpoint(
    LlamaConfig Config,
    LlamaForCausalLM Model,
    ITokenizer? Tokenizer,
    IReadOnlyDictionary<string, Tensor> Extra,
    IReadOnlyDictionary<string, string> Metadata,
    string Hash)
{
    /// <summary>
    /// False for an HF <c>LlamaForSequenceClassification</c> directory without <c>lm_head.weight</c> (untied): the
    /// model's head then holds its random init and must not be used for log-probs.
    /// </summary>
    public bool HasLmHead { get; init; } = true;
}
