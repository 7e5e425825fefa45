namespace PostTrain.Model.Prompts;

/// <summary><c>numeric</c>: the response's final number (<see cref="NumericAnswer"/>) equals the reference's, as exact fractions.</summary>
public sealed class NumericVerifier : IVerifier
{
    public string Name => Verifiers.Numeric;

    public bool? Verify(VerifiableTask task, string response)
    {
        ArgumentNullException.ThrowIfNull(task);
        var want = NumericAnswer.Of(task.Answer) ?? throw new InvalidOperationException($"task {task.Id}: answer: {ReferenceProblem(task.Answer)}");
        return NumericAnswer.Of(response ?? "") == want;
    }

    public string? ReferenceProblem(string answer) =>
        NumericAnswer.Of(answer ?? "") is null ? $"no number in the reference answer \"{Verifiers.Clip(answer)}\" (looked after ####, inside \\boxed{{}}, then for the last number)" : null;
}
