namespace PostTrain.Sampling.Rejection;

/// <summary>How <see cref="RejectionSampler"/> uses the task checker on prompts that are verifiable tasks.</summary>
public enum CheckerMode
{
    /// <summary>The reward model alone ranks responses.</summary>
    Off,

    /// <summary>
    /// The checker acts as an annotator ranked above the RM: correct responses outrank incorrect ones, the RM orders
    /// within each group. If no response is correct the RM's best is still kept for SFT. A pair whose chosen is
    /// correct and rejected incorrect is kept whatever the score gap.
    /// </summary>
    PreferCorrect,

    /// <summary>
    /// As <see cref="PreferCorrect"/>, but a verifiable prompt yields an SFT example and a pair only with a correct
    /// chosen response (Llama 3 sec. 4.3.3: reasoning data keeps only samples whose final answer checks out).
    /// </summary>
    RequireCorrect,
}
