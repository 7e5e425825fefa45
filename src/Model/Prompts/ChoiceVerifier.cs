using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// <c>choice</c>: multiple choice among A–E. The reference is a letter ("C", "(C)", "C) 42", "The answer is C"); the
/// response's choice is the last "answer is X" / "Answer: X", else a leading letter ("B", "(B)", "B."), else the last
/// parenthesised letter. A response naming no letter is wrong.
/// </summary>
public sealed partial class ChoiceVerifier : IVerifier
{
    [GeneratedRegex(@"(?i:answer)\s*(?:(?i:is)\s*)?:?\s*\(?([A-E])\b", RegexOptions.CultureInvariant)]
    private static partial Regex Stated();

    [GeneratedRegex(@"^\s*\(?([A-E])(?:[).:]|\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex Leading();

    [GeneratedRegex(@"\(([A-E])\)", RegexOptions.CultureInvariant)]
    private static partial Regex Parenthesised();

    public string Name => Verifiers.Choice;

    public bool? Verify(VerifiableTask task, string response)
    {
        ArgumentNullException.ThrowIfNull(task);
        var want = Letter(task.Answer) ?? throw new InvalidOperationException($"task {task.Id}: answer: {ReferenceProblem(task.Answer)}");
        return Letter(response ?? "") == want;
    }

    public string? ReferenceProblem(string answer) =>
        Letter(answer ?? "") is null ? $"\"{Verifiers.Clip(answer)}\" names no choice A-E" : null;

    /// <summary>The chosen letter, upper case, or null.</summary>
    public static char? Letter(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stated = Stated().Matches(text);
        if (stated.Count > 0) return char.ToUpperInvariant(stated[^1].Groups[1].Value[0]);
        if (Leading().Match(text) is { Success: true } lead) return lead.Groups[1].Value[0];
        var paren = Parenthesised().Matches(text);
        return paren.Count > 0 ? paren[^1].Groups[1].Value[0] : null;
    }
}
