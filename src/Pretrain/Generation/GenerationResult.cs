namespace PostTrain.Pretrain.Generation;

/// <summary>One generated continuation.</summary>
/// <param name="PromptIds">The prompt as fed to the model.</param>
/// <param name="TokenIds">Generated ids, the stop token included when one ended generation.</param>
/// <param name="LogProbs">Per generated id, its natural-log probability under the model's raw distribution
/// (temperature 1, no top-p): the quantity a policy-gradient or DPO loss would use.</param>
/// <param name="Stopped">True when a stop id ended generation, false when the token budget ran out.</param>
public sealed record GenerationResult(int[] PromptIds, int[] TokenIds, float[] LogProbs, bool Stopped);
