using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>One supervised fine-tuning target: the response the policy should produce after <see cref="Prompt"/>
/// (in Llama 3, the best of N rejection-sampled responses).</summary>
public sealed record SftExample(IReadOnlyList<ChatMessage> Prompt, string Response)
{
    /// <summary>Provenance: round, task id, reward score, sampler settings. Never used for training.</summary>
    public IReadOnlyDictionary<string, string>? Source { get; init; }
}
