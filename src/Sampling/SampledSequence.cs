namespace PostTrain.Sampling;

/// <summary>One generated continuation at the token level.</summary>
/// <param name="PromptId">The prompt it continues.</param>
/// <param name="SampleIndex">0..N−1 among that prompt's samples.</param>
/// <param name="TokenIds">Generated ids, the stop token included when one was produced.</param>
/// <param name="LogProbs">Per generated id, its log-probability under the model's unmodified distribution (temperature 1, no top-k/top-p),
/// which is what DPO's reference and off-policy corrections need.</param>
/// <param name="Stopped">True when a stop token ended it; false when it hit the token limit.</param>
public sealed record SampledSequence(string PromptId, int SampleIndex, int[] TokenIds, float[] LogProbs, bool Stopped)
{
    public double SumLogProb => LogProbs.Sum(x => (double)x);
}
