using PostTrain.Model.Data;

namespace PostTrain.Sampling.Rejection;

/// <summary>Output of rejection sampling, in prompt order: best-of-N SFT examples, best-vs-worst pairs, every scored response, and counts.</summary>
public sealed record RejectionResult(IReadOnlyList<SftExample> Sft, IReadOnlyList<PreferencePair> Pairs, IReadOnlyList<ScoredResponse> Scored, RejectionStats Stats);
