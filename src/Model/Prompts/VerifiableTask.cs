using System.Text.Json.Serialization;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Prompts;

/// <summary>
/// A prompt and the reference answer a verifier (<see cref="IVerifier"/>) checks responses against: a generated task
/// (<see cref="Kind"/> set) or a row of the user's prompt file (<see cref="Kind"/> null, <see cref="Label"/> its format).
/// </summary>
/// <param name="Id">Kind plus a hash of the prompt: stable across runs, equal for equal prompts.</param>
/// <param name="Kind">The generated task family; null for the user's prompts.</param>
/// <param name="Answer">The reference response text, e.g. "1221", "3, 8, 15" or a GSM8K solution ending in "#### 72"; empty when there is none.</param>
public sealed record VerifiableTask(string Id, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TaskKind? Kind, string Prompt, string Answer)
{
    /// <summary>The user's prompt as a whole conversation (system and earlier turns) when it is more than one user turn; null = <see cref="Prompt"/> alone.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>Where a user prompt came from (gsm8k, math, prompt, messages); per-kind figures group by it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }

    /// <summary>The group this task's figures are reported under: the task family, else the user file's format.</summary>
    [JsonIgnore]
    public string KindName => Kind?.ToString() ?? Label ?? "prompt";
}
