using PostTrain.Model.Data;

namespace PostTrain.Model.Prompts;

/// <summary>The checker's verdict on N sampled responses to one task.</summary>
/// <param name="IsCorrect">One flag per response, same order.</param>
/// <param name="Pairs">Correct-vs-wrong preference pairs; empty when all responses agree in correctness (no signal).</param>
public sealed record Annotation(VerifiableTask Task, IReadOnlyList<string> Responses, IReadOnlyList<bool> IsCorrect, IReadOnlyList<PreferencePair> Pairs)
{
    public int CorrectCount => IsCorrect.Count(c => c);

    /// <summary>Distinct correct responses in sampling order: the rejection-sampling candidates for SFT.</summary>
    public IReadOnlyList<string> CorrectResponses => Responses.Where((_, i) => IsCorrect[i]).Distinct(StringComparer.Ordinal).ToList();
}
