using PostTrain.Model.Data;

namespace PostTrain.Model.Prompts;

/// <summary>The pairs a verifier annotated from N samples of each prompt, and how often the samples were right.</summary>
/// <param name="Edited">Pairs with an edited side (the reference answer, or a near miss), made where the samples had no contrast.</param>
public sealed record AnnotationBatch(IReadOnlyList<PreferencePair> Pairs, int Correct, int Total, int Edited)
{
    public double SampleAccuracy => Total > 0 ? (double)Correct / Total : 0;
}
