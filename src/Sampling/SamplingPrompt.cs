using PostTrain.Model.Tokenization;

namespace PostTrain.Sampling;

/// <summary>A chat prompt to sample responses for. <see cref="Id"/> must be unique in a run: it keys the random stream and the merge order.</summary>
public sealed record SamplingPrompt(string Id, IReadOnlyList<ChatMessage> Messages);
