using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>
/// One preference judgement for DPO and reward-model training. Llama 3 ranks edited &gt; chosen &gt; rejected:
/// when an annotator rewrote the chosen response, <see cref="Edited"/> holds the rewrite.
/// </summary>
/// <param name="Prompt">The conversation before the response, ending (usually) with a user turn.</param>
public sealed record PreferencePair(IReadOnlyList<ChatMessage> Prompt, string Chosen, string Rejected)
{
    public string? Edited { get; init; }
    public double? ScoreChosen { get; init; }
    public double? ScoreRejected { get; init; }

    /// <summary>How much better chosen is (Llama 3's "significantly better" .. "marginally better" as a number); null if unrated.</summary>
    public double? Margin { get; init; }

    /// <summary>Provenance: dataset, file, line, task id, annotator. Free-form; never used for training.</summary>
    public IReadOnlyDictionary<string, string>? Source { get; init; }
}
