using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// <c>regex:PATTERN</c>: the pattern's last match in the response is the answer (its first capture group when it has
/// one) and must equal the reference after trimming; a task without a reference is right when the pattern matches at all.
/// Matching is time-limited, so a pathological pattern fails the row instead of hanging the run.
/// </summary>
public sealed class RegexVerifier : IVerifier
{
    private readonly Regex _pattern;

    /// <exception cref="ArgumentException">The pattern does not compile; the message names it.</exception>
    public RegexVerifier(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        try { _pattern = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException e) { throw new ArgumentException($"verifier: regex:{pattern}: {e.Message}", nameof(pattern), e); }
        Name = Verifiers.RegexPrefix + pattern;
    }

    public string Name { get; }

    public bool? Verify(VerifiableTask task, string response)
    {
        ArgumentNullException.ThrowIfNull(task);
        var matches = _pattern.Matches(response ?? "");
        if (matches.Count == 0) return false;
        if (string.IsNullOrWhiteSpace(task.Answer)) return true;
        var last = matches[^1];
        var got = last.Groups.Count > 1 ? last.Groups[1].Value : last.Value;
        return string.Equals(got.Trim(), task.Answer.Trim(), StringComparison.Ordinal);
    }

    public string? ReferenceProblem(string answer) => null;
}
