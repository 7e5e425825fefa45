using System.Globalization;
using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// The worked response format of the built-in numeric tasks: the answer's digits least-significant first, then the
/// answer, e.g. "What is 57 + 68?" → "521 reversed is 125". Written low digit first, every digit of a sum, difference or
/// one-digit product depends only on the digits at its own place and the carry from the place before, so a small
/// transformer learns the carry locally instead of having to foresee it (Lee et al. 2023, "Teaching Arithmetic to Small
/// Transformers"); reading the reversed digits back out is a copy. The checker verifies both parts.
/// </summary>
public static partial class ReversedAnswer
{
    public const string Separator = " reversed is ";

    [GeneratedRegex(@"^\s*(-?\d+) reversed is (-?\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Worked();

    /// <summary>True for the kinds whose answer is one integer (every kind but sorting).</summary>
    public static bool Applies(TaskKind? kind) => kind is TaskKind.Addition or TaskKind.Subtraction or TaskKind.Multiplication or TaskKind.WordProblem;

    /// <summary>The task with its answer in the worked form; sorting and the user's prompts are returned as they are.</summary>
    public static VerifiableTask Of(VerifiableTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!Applies(task.Kind) || Parse(task.Answer) is not null) return task;
        var n = long.Parse(task.Answer, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return task with { Answer = Render(n) };
    }

    /// <summary>"521 reversed is 125" for 125; "-54 reversed is -45" for -45 (the sign stays in front).</summary>
    public static string Render(long n) => Reverse(n) + Separator + n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The digits of <paramref name="n"/> in reverse order, sign first: 2100 → "0012", -45 → "-54".</summary>
    public static string Reverse(long n)
    {
        var digits = Math.Abs(n).ToString(CultureInfo.InvariantCulture).ToCharArray();
        Array.Reverse(digits);
        return (n < 0 ? "-" : "") + new string(digits);
    }

    /// <summary>The reversed digits (as written) and the answer of a response that opens in the worked form, else null.</summary>
    public static (string Reversed, long Answer)? Parse(string text)
    {
        var m = Worked().Match(text ?? "");
        if (!m.Success || !long.TryParse(m.Groups[2].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var answer)) return null;
        return (m.Groups[1].Value, answer);
    }
}
