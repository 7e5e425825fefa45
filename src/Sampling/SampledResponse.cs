using PostTrain.Model.Tokenization;

namespace PostTrain.Sampling;

/// <summary>One line of a samples JSONL file (see <see cref="SampleFile"/>).</summary>
/// <param name="PromptId">The prompt's id.</param>
/// <param name="Prompt">The messages the policy saw (the system prompt included when one was added).</param>
/// <param name="SampleIndex">0..N−1.</param>
/// <param name="Response">Decoded text up to the first stop token.</param>
/// <param name="TokenIds">Generated ids, the stop token included when one was produced.</param>
/// <param name="SumLogProb">Sum of the generated ids' log-probabilities under the sampler (temperature 1).</param>
/// <param name="Stopped">True when a stop token ended it; false when it was cut at the token limit.</param>
/// <param name="Provenance">Round, sampler checkpoint and sampling settings.</param>
public sealed record SampledResponse(string PromptId, IReadOnlyList<ChatMessage> Prompt, int SampleIndex, string Response,
    int[] TokenIds, double SumLogProb, bool Stopped, SamplingProvenance Provenance);
