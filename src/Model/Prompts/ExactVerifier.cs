using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// <c>exact</c>: the whole response equals the reference, after trimming and collapsing runs of whitespace (a model's
/// trailing newline is not an error); case and punctuation count.
/// </summary>
public sealed partial class ExactVerifier : IVerifier
{
    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();

    public string Name => Verifiers.Exact;

    public bool? Verify(VerifiableTask task, string response)
    {
        ArgumentNullException.ThrowIfNull(task);
        return string.Equals(Normalize(response ?? ""), Normalize(task.Answer), StringComparison.Ordinal);
    }

    public string? ReferenceProblem(string answer) => string.IsNullOrWhiteSpace(answer) ? "the reference answer is empty" : null;

    private static string Normalize(string text) => Whitespace().Replace(text.Trim(), " ");
}
