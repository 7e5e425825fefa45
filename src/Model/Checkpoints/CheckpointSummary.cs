namespace PostTrain.Model.Checkpoints;

/// <summary>
/// What <see cref="CheckpointInspector.Inspect"/> found in a checkpoint directory, read from headers only.
/// </summary>
/// <param name="Architecture"><see cref="CheckpointInspector.CausalLM"/> (a policy) or <see cref="CheckpointInspector.SequenceClassification"/> (a reward model).</param>
/// <param name="Parameters">Elements over every tensor the network uses.</param>
/// <param name="Dtypes">Stored dtypes, e.g. ["BF16"].</param>
/// <param name="Tokenizer">The tokenizer's kind (its class name), null when the directory has none.</param>
/// <param name="HasChatTemplate">Whether the tokenizer carries the Llama 3 chat format PostTrain templates with.</param>
public sealed record CheckpointSummary(
    string Directory,
    LlamaConfig Config,
    string Architecture,
    long Parameters,
    IReadOnlyList<string> Dtypes,
    string? Tokenizer,
    bool HasChatTemplate);
