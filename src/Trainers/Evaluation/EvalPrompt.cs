using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.Trainers.Evaluation;

/// <summary>A held-out prompt. <paramref name="Task"/> is set when <see cref="TaskChecker"/> can grade a response exactly.</summary>
public sealed record EvalPrompt(IReadOnlyList<ChatMessage> Messages, VerifiableTask? Task = null);
