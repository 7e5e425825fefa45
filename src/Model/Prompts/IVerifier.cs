namespace PostTrain.Model.Prompts;

/// <summary>
/// Plays Llama 3's annotator where answers exist: decides whether a response to a task is right. The built-in
/// checker and the user's verifiers (<see cref="Verifiers.Parse"/>) sit behind this one interface, so rejection
/// sampling, annotation, evaluation and the report never ask which one they have.
/// </summary>
public interface IVerifier
{
    /// <summary>The spec it was made from (<c>checker</c>, <c>numeric</c>, <c>regex:…</c>); recorded with the task set.</summary>
    string Name { get; }

    /// <summary>True or false when this verifier judges; null when it judges nothing (<c>none</c>: the reward model alone decides).</summary>
    bool? Verify(VerifiableTask task, string response);

    /// <summary>Why <paramref name="answer"/> cannot serve as this verifier's reference (e.g. no number in it), or null when it can.</summary>
    string? ReferenceProblem(string answer);
}
