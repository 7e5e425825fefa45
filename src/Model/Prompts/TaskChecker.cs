using System.Globalization;
using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// Reads the answer out of free model text and compares it exactly. It takes the FIRST number (or list) so a
/// response cannot hedge by listing several candidates, and a wrong first answer is wrong even if corrected later.
/// A response in a worked form is right only when its work holds and its answer is right: the reversed digits of
/// <see cref="ReversedAnswer"/> must be those of its answer, and every step of a <see cref="WorkedProduct"/> must be true.
/// </summary>
public static partial class TaskChecker
{
    // Thousands separators ("1,221") count for single numbers, never for lists, where a comma separates items.
    [GeneratedRegex(@"[-−]?\s?\d{1,3}(?:,\d{3})+(?!\d)|[-−]?\s?\d+", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"[-−]?\d+(?:(?:\s*,\s*|\s+)[-−]?\d+)*", RegexOptions.CultureInvariant)]
    private static partial Regex ListPattern();

    public static bool IsCorrect(VerifiableTask task, string response)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (string.IsNullOrWhiteSpace(response)) return false;
        if (task.Kind == TaskKind.Sorting)
        {
            var expected = ExtractList(task.Answer) ?? throw new InvalidOperationException($"task {task.Id} has a non-list answer \"{task.Answer}\"");
            var got = ExtractList(response);
            return got is not null && got.SequenceEqual(expected);
        }
        var want = AnswerOf(task.Answer) ?? throw new InvalidOperationException($"task {task.Id} has a non-numeric answer \"{task.Answer}\"");
        if (ReversedAnswer.Parse(response) is { } worked) return worked.Answer == want && worked.Reversed == ReversedAnswer.Reverse(want);
        if (WorkedProduct.Parse(response) is { } product) return product.StepsHold && product.Answer == want;
        return ExtractNumber(response) == want;
    }

    /// <summary>The integer a reference answer states: the answer of a worked form, else its first integer.</summary>
    public static long? AnswerOf(string answer) => ReversedAnswer.Parse(answer)?.Answer ?? WorkedProduct.Parse(answer)?.Answer ?? ExtractNumber(answer);

    /// <summary>The first integer in <paramref name="text"/> ("-12", "− 12", "1,221"), or null when there is none or it overflows.</summary>
    public static long? ExtractNumber(string text)
    {
        var m = NumberPattern().Match(text);
        return m.Success ? Parse(m.Value) : null;
    }

    /// <summary>The first run of integers separated by commas and/or spaces ("3, 8, 15", "3 8 15"), or null.</summary>
    public static IReadOnlyList<long>? ExtractList(string text)
    {
        var m = ListPattern().Match(text);
        if (!m.Success) return null;
        var items = Regex.Matches(m.Value, @"[-−]?\d+").Select(x => Parse(x.Value)).ToList();
        return items.Any(i => i is null) ? null : items.Select(i => i!.Value).ToList();
    }

    private static long? Parse(string s)
    {
        var clean = s.Replace("−", "-", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        return long.TryParse(clean, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
    }
}
