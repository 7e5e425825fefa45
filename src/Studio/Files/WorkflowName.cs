using System.Text.RegularExpressions;

namespace PostTrain.Studio.Files;

/// <summary>A workflow's name is its file name without <c>.json</c>: letters, digits, '-' and '_', so it can never leave the directory.</summary>
public static partial class WorkflowName
{
    // \z, not $: '$' also matches before a final newline, which let "evil\n" through as a file name.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\z")]
    public static partial Regex Pattern();

    /// <summary>Null when <paramref name="name"/> is acceptable, otherwise the reason.</summary>
    public static string? Check(string? name) =>
        name is null || !Pattern().IsMatch(name)
            ? $"workflow name '{name}' is invalid: expected 1-64 letters, digits, '-' or '_' starting with a letter or digit (pattern {Pattern()})"
            : null;
}
