using PostTrain.Model.Tokenization;

namespace PostTrain.Pretrain.Data;

/// <summary>
/// One pretraining document before tokenization: either plain text, or a chat conversation (user prompt and
/// assistant response) that goes through the Llama 3 chat template so the model learns the format the later
/// stages prompt it with.
/// </summary>
/// <param name="Text">Plain text, or the user prompt when <paramref name="Response"/> is set.</param>
/// <param name="Response">The assistant's answer for a conversation; null for plain text.</param>
/// <param name="HighQuality">Part of the subset the annealing phase upsamples.</param>
/// <param name="Prompt">The whole prompt of a multi-turn conversation (SFT data); null = one user turn of <paramref name="Text"/>.</param>
public sealed record CorpusDocument(string Text, string? Response = null, bool HighQuality = false, IReadOnlyList<ChatMessage>? Prompt = null);
