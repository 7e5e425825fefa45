using System.Globalization;
using System.Text.RegularExpressions;

namespace PostTrain.Model.Prompts;

/// <summary>
/// A minimally wrong answer, as an annotator writes the rejected side when every sample was right: the answer off by a
/// little (in the worked form when the answer has it; a slip in a worked product's last step), or a list with two neighbours swapped; in a user's worked solution, its last number off by a little.
/// </summary>
public static partial class NearMiss
{
    [GeneratedRegex(@"\d+(?!.*\d)", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex LastInteger();

    public static string Of(VerifiableTask task, Random rng)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(rng);
        if (ReversedAnswer.Parse(task.Answer) is { } worked)
            return ReversedAnswer.Render(worked.Answer + Delta(rng));
        if (WorkedProduct.Slip(task.Answer, rng) is { } slip) return slip;
        if (long.TryParse(task.Answer, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            return (n + Delta(rng)).ToString(CultureInfo.InvariantCulture);
        if (task.Kind is null && LastInteger().Match(task.Answer) is { Success: true } m && long.TryParse(m.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var last))
            return string.Concat(task.Answer.AsSpan(0, m.Index), (last + Math.Abs(Delta(rng))).ToString(CultureInfo.InvariantCulture), task.Answer.AsSpan(m.Index + m.Length));
        var items = task.Answer.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i + 1 < items.Length; i++)
        {
            if (items[i] == items[i + 1]) continue;
            (items[i], items[i + 1]) = (items[i + 1], items[i]);
            return string.Join(", ", items);
        }
        return task.Answer + "0";
    }

    private static int Delta(Random rng) => rng.Next(1, 11) * (rng.Next(2) == 0 ? -1 : 1);
}
