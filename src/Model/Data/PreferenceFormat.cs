namespace PostTrain.Model.Data;

/// <summary>The preference JSONL layouts in common use on the Hugging Face hub.</summary>
public enum PreferenceFormat
{
    /// <summary><c>{"prompt", "chosen", "rejected"}</c>, each a string or a message list (TRL "explicit prompt").</summary>
    ExplicitPrompt,

    /// <summary><c>{"chosen", "rejected"}</c> as whole conversations; the longest shared prefix is the prompt (Anthropic HH-RLHF).</summary>
    ImplicitPrompt,

    /// <summary>UltraFeedback-binarized: message lists plus <c>score_chosen</c> / <c>score_rejected</c>.</summary>
    UltraFeedback,
}
