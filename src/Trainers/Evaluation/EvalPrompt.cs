using PostTrain.Model.Prompts;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.Trainers.Evaluation;

/// <summary>
/// A held-out prompt. <paramref name="Task"/> is set when a verifier can grade a response: <paramref name="Verifier"/>,
/// or the built-in <see cref="TaskChecker"/> when that is null.
/// </summary>
public sealed record EvalPrompt(IReadOnlyList<ChatMessage> Messages, VerifiableTask? Task = null, IVerifier? Verifier = null);
