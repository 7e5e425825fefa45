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
    string Hash);
