using PostTrain.Model.Tokenization;

namespace PostTrain.Trainers.Dpo;

/// <summary>One preference pair as templated ids: the same prompt followed by the chosen and by the rejected response.</summary>
/// <param name="Chosen">Prompt + y_w (+ eot), from <see cref="ChatTemplate.EncodeExample"/>.</param>
/// <param name="Rejected">Prompt + y_l (+ eot).</param>
public sealed record PreferenceEncoding(ChatEncoding Chosen, ChatEncoding Rejected)
{
    /// <summary>Encodes a prompt and its two responses with <paramref name="template"/>.</summary>
    public static PreferenceEncoding Encode(ChatTemplate template, IReadOnlyList<ChatMessage> prompt, string chosen, string rejected) =>
        new(template.EncodeExample(prompt, chosen), template.EncodeExample(prompt, rejected));
}
