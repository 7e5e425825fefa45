using PostTrain.Model.Data;

namespace PostTrain.Sampling.Rejection;

/// <summary>
/// Evens out the task kinds of rejection-sampled SFT data by repeating the examples of scarce kinds. Best-of-N keeps most
/// from the kinds the policy already solves (sorting at 90% against sums at 15% pass@6), so without it SFT spends most of
/// its steps where there is least to learn, and the hard kinds drift down while the easy ones climb.
/// </summary>
public static class KindBalance
{
    /// <summary>
    /// Each kind's examples repeated round(largest kind's count ÷ its count) times, at most <paramref name="maxCopies"/>;
    /// examples whose kind is unknown (null) stay once. Order: the input order, each repeat right after its example, so a
    /// shuffled epoch sees the same mix as the whole.
    /// </summary>
    /// <param name="examples">Kept SFT examples.</param>
    /// <param name="kindOf">An example's kind, or null when it has none (the user's prompts).</param>
    /// <param name="maxCopies">1 leaves the data as it is.</param>
    public static IReadOnlyList<SftExample> Upsample(IReadOnlyList<SftExample> examples, Func<SftExample, string?> kindOf, int maxCopies)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(kindOf);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCopies, 1);
        var kinds = examples.Select(kindOf).ToArray();
        var counts = kinds.OfType<string>().GroupBy(k => k, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (maxCopies == 1 || counts.Count < 2) return examples;
        var largest = counts.Values.Max();
        var copies = counts.ToDictionary(c => c.Key, c => Math.Clamp((int)Math.Round(largest / (double)c.Value), 1, maxCopies), StringComparer.Ordinal);
        var result = new List<SftExample>(examples.Count);
        for (var i = 0; i < examples.Count; i++)
            for (var c = kinds[i] is { } k ? copies[k] : 1; c > 0; c--) result.Add(examples[i]);
        return result;
    }
}
