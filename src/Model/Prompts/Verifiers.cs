namespace PostTrain.Model.Prompts;

/// <summary>The verifier kinds by name, as <c>--verifier</c> and workflow inputs spell them.</summary>
public static class Verifiers
{
    public const string Checker = "checker", Exact = "exact", Numeric = "numeric", Choice = "choice", RegexPrefix = "regex:", None = "none";

    /// <summary>Every accepted spelling, for help texts and errors.</summary>
    public static readonly string Kinds = $"{Checker}, {Exact}, {Numeric}, {Choice}, {RegexPrefix}PATTERN, {None}";

    /// <exception cref="ArgumentException">An unknown kind or a pattern that does not compile; the message says which and lists the kinds.</exception>
    public static IVerifier Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Trim();
        if (s.StartsWith(RegexPrefix, StringComparison.Ordinal))
            return s.Length > RegexPrefix.Length ? new RegexVerifier(s[RegexPrefix.Length..]) : throw new ArgumentException($"verifier: '{spec}' has an empty pattern; expected regex:PATTERN", nameof(spec));
        return s.ToLowerInvariant() switch
        {
            Checker or "" => new CheckerVerifier(),
            Exact => new ExactVerifier(),
            Numeric => new NumericVerifier(),
            Choice => new ChoiceVerifier(),
            None => new NoVerifier(),
            _ => throw new ArgumentException($"verifier: '{spec}' is not a verifier; expected one of {Kinds}", nameof(spec)),
        };
    }

    /// <summary>An answer as one line for an error message, cut when long.</summary>
    internal static string Clip(string? text)
    {
        var line = (text ?? "").Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return line.Length <= 60 ? line : line[..57] + "...";
    }
}
