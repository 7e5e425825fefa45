using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Prompts;

/// <summary>
/// One imported prompt as stored in a prompts dataset: the user's row normalised, with the split its prompt hashes to
/// and the line it came from (so a verifier that cannot read its answer names that line).
/// </summary>
/// <param name="Label">The layout it was read from: prompt, messages, gsm8k, math, choice.</param>
/// <param name="Answer">The reference answer, empty when the row has none.</param>
/// <param name="Messages">The whole conversation when the prompt is more than one user turn, else null.</param>
public sealed record PromptRow(string Id, string Label, string Prompt, string Answer, IReadOnlyList<ChatMessage>? Messages, TaskSplit Split, int Line)
{
    public VerifiableTask ToTask() => new(Id, null, Prompt, Answer) { Label = Label, Messages = Messages };
}
