namespace PostTrain.Pretrain;

/// <summary>What a pretraining run produced.</summary>
/// <param name="CheckpointDir">The final model (averaged over the last K checkpoints), with its tokenizer.</param>
/// <param name="Steps">Optimizer steps completed.</param>
/// <param name="TrainLoss">Mean cross-entropy (nats/token) of the last optimizer step.</param>
/// <param name="HeldOutLoss">Mean cross-entropy (nats/token) of the final model on held-out sequences.</param>
/// <param name="UnigramEntropy">Entropy (nats) of the held-out tokens' own frequency distribution: the loss of the
/// best context-free model, so HeldOutLoss far below it means the network learned context.</param>
/// <param name="ExactMatch">Fraction of held-out tasks the final model answers exactly with greedy decoding; null with user data.</param>
/// <param name="TokensPerSecond">Training tokens per second of wall time over this invocation's steps.</param>
/// <param name="Elapsed">Wall time of the whole run (corpus, tokenizer, training, evaluation).</param>
public sealed record PretrainResult(
    string CheckpointDir, int Steps, double TrainLoss, double HeldOutLoss, double UnigramEntropy,
    double? ExactMatch, double TokensPerSecond, TimeSpan Elapsed)
{
    /// <summary>Parameters outside the embedding and output head: N of a scaling law (Kaplan et al. 2020).</summary>
    public long NonEmbeddingParameters { get; init; }

    /// <summary>Token slots trained on (steps × batch × sequence length × accumulation): D of a scaling law.</summary>
    public long TrainingTokens { get; init; }
}
