namespace PostTrain.Workflows.Reports;

/// <summary>One policy of the ablation table: its fresh held-out figures and the post-training work that made it.</summary>
/// <param name="Name">"base", "6 rounds", "1 round (same compute)".</param>
/// <param name="Correct">Right answers on the fresh held-out prompts.</param>
/// <param name="ByKind">Fresh held-out exact match per task kind.</param>
/// <param name="SampledResponses">Responses sampled for rejection sampling, summed over rounds.</param>
/// <param name="SftExamples">Samples rejection kept for SFT, summed over rounds.</param>
/// <param name="DpoPairs">Preference pairs kept for DPO, summed over rounds.</param>
/// <param name="PostTrainSeconds">Wall seconds of the post-training steps (sampling to selection), summed.</param>
public sealed record AblationRow(string Name, int Rounds, string Checkpoint, int Correct, int Total, IReadOnlyDictionary<string, double> ByKind,
    double SampledResponses, double SftExamples, double DpoPairs, double PostTrainSeconds)
{
    public ConfidenceInterval Accuracy => ConfidenceInterval.Wilson(Correct, Total);
}
