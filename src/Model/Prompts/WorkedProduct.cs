using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// The worked form of a product: the multiplier times each digit of the multiplicand, lowest first, plus the carry of
/// the step before, then the product: "What is 7 * 38?" → "7 * 8 = 56, 7 * 3 + 5 = 26, so 266". Written as the answer
/// alone, the first digit of 7 · 38 depends on the whole product, and a small model that has seen most products of
/// its range still does not compute one it has not seen. Here every step is a one-digit times-table fact plus a carry
/// copied from the step before, and the product is a copy: the last step, then the other steps' units digits from
/// last to first. The held-out products are then new combinations of steps the model has seen. The checker verifies
/// every step: a response in this form is right only when each step's arithmetic is right and the product is theirs.
/// </summary>
public static partial class WorkedProduct
{
    [GeneratedRegex(@"^\s*(\d+) \* (\d) = (\d+)((?:, \d+ \* \d \+ \d+ = \d+)*), so (-?\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Worked();

    [GeneratedRegex(@", (\d+) \* (\d) \+ (\d+) = (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex CarryStep();

    [GeneratedRegex(@"^What is (\d+) \* (\d+)\?$", RegexOptions.CultureInvariant)]
    private static partial Regex ProductPrompt();

    /// <summary>"7 * 8 = 56, 7 * 3 + 5 = 26, so 266" for 7 × 38; "7 * 4 = 28, so 28" for a one-digit multiplicand.</summary>
    public static string Render(long multiplier, long multiplicand)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(multiplier);
        ArgumentOutOfRangeException.ThrowIfNegative(multiplicand);
        var inv = CultureInfo.InvariantCulture;
        var digits = multiplicand.ToString(inv);
        var sb = new StringBuilder();
        long carry = 0;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            var p = checked(multiplier * d + carry);
            if (i == digits.Length - 1) sb.Append(inv, $"{multiplier} * {d} = {p}");
            else sb.Append(inv, $", {multiplier} * {d} + {carry} = {p}");
            carry = p / 10;
        }
        return sb.Append(inv, $", so {checked(multiplier * multiplicand)}").ToString();
    }

    /// <summary>A product task ("What is A * B?") with its answer in the worked form; any other task is returned as it is.</summary>
    /// <exception cref="InvalidOperationException">The task's answer is not the product of its prompt's numbers.</exception>
    public static VerifiableTask Of(VerifiableTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.Kind != TaskKind.Multiplication || Parse(task.Answer) is not null) return task;
        var m = ProductPrompt().Match(task.Prompt);
        if (!m.Success) return task;
        var (a, b) = (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        if (!long.TryParse(task.Answer, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var answer) || answer != a * b)
            throw new InvalidOperationException($"task {task.Id}: answer \"{task.Answer}\" is not {a} * {b}");
        return task with { Answer = Render(a, b) };
    }

    /// <summary>
    /// A response that opens in the worked form: its product, and whether every step holds (each step the multiplier
    /// times its digit plus the last step's carry, and the product the one those digits make). Null when the response
    /// does not open in this form.
    /// </summary>
    public static (long Answer, bool StepsHold)? Parse(string text)
    {
        var m = Worked().Match(text ?? "");
        if (!m.Success || !long.TryParse(m.Groups[5].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var answer)) return null;
        return (answer, StepsHold(m, answer));
    }

    private static bool StepsHold(Match m, long answer)
    {
        if (!TryLong(m.Groups[1].Value, out var a) || !TryLong(m.Groups[3].Value, out var p)) return false;
        var d = m.Groups[2].Value[0] - '0';
        if (p != a * d) return false;
        var (multiplicand, place) = ((long)d, 1L);
        foreach (Match step in CarryStep().Matches(m.Groups[4].Value))
        {
            if (!TryLong(step.Groups[1].Value, out var a2) || a2 != a || !TryLong(step.Groups[3].Value, out var carry) || carry != p / 10
                || !TryLong(step.Groups[4].Value, out var next)) return false;
            d = step.Groups[2].Value[0] - '0';
            if (next != a * d + carry) return false;
            if (place > long.MaxValue / 10) return false;
            place *= 10;
            multiplicand += d * place;
            p = next;
        }
        return answer == a * multiplicand;
    }

    /// <summary>
    /// A slip in the last step of a worked product (its result off by 1 to 3, and the product with it): the near miss an
    /// annotator writes beside a right answer.
    /// </summary>
    public static string? Slip(string worked, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var m = Worked().Match(worked ?? "");
        if (!m.Success) return null;
        // The last step's result is the last number before ", so"; the product's other digits are the earlier steps' units.
        var head = m.Value[..m.Groups[5].Index];
        var lastStep = Regex.Match(head, @"= (\d+), so $", RegexOptions.CultureInvariant);
        var last = long.Parse(lastStep.Groups[1].Value, CultureInfo.InvariantCulture);
        var delta = rng.Next(1, 4) * (last >= 3 && rng.Next(2) == 0 ? -1 : 1);
        var slipped = last + delta;
        var tail = m.Groups[5].Value[last.ToString(CultureInfo.InvariantCulture).Length..];
        var answer = slipped.ToString(CultureInfo.InvariantCulture) + tail;
        return string.Concat(head.AsSpan(0, lastStep.Groups[1].Index), slipped.ToString(CultureInfo.InvariantCulture), ", so ", answer);
    }

    private static bool TryLong(string s, out long v) => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
}
