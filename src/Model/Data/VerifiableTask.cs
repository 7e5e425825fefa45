namespace PostTrain.Model.Data;

/// <summary>A prompt with one exactly checkable answer.</summary>
/// <param name="Id">Kind plus a hash of the prompt: stable across runs, equal for equal prompts.</param>
/// <param name="Answer">The canonical response text, e.g. "1221" or "3, 8, 15".</param>
public sealed record VerifiableTask(string Id, TaskKind Kind, string Prompt, string Answer);
