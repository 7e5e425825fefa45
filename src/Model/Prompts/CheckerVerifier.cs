namespace PostTrain.Model.Prompts;

/// <summary><c>checker</c>: the built-in tasks' exact checker (<see cref="TaskChecker"/>: first number, or first list for sorting).</summary>
public sealed class CheckerVerifier : IVerifier
{
    public string Name => Verifiers.Checker;

    public bool? Verify(VerifiableTask task, string response) => TaskChecker.IsCorrect(task, response ?? "");

    public string? ReferenceProblem(string answer) =>
        TaskChecker.AnswerOf(answer ?? "") is null ? $"no integer in the reference answer \"{Verifiers.Clip(answer)}\"" : null;
}
