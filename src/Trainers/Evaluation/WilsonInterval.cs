namespace PostTrain.Trainers.Evaluation;

/// <summary>
/// Wilson score interval for a binomial proportion (Wilson 1927). Unlike the normal approximation it stays inside [0, 1]
/// and is honest at small n and at p near 0 or 1, which is where held-out sets of a few hundred prompts live.
/// </summary>
public static class WilsonInterval
{
    /// <summary>z of a two-sided 95% interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <param name="successes">Successes; fractional values are allowed (a tie counted as half a win).</param>
    /// <param name="n">Trials; 0 gives (0, 1), knowing nothing.</param>
    public static (double Low, double High) Compute(double successes, int n, double z = Z95)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "trials must be >= 0");
        if (successes < 0 || successes > n) throw new ArgumentOutOfRangeException(nameof(successes), successes, $"successes must be in [0, {n}]");
        if (n == 0) return (0, 1);
        var p = successes / n;
        var z2 = z * z;
        var denominator = 1 + z2 / n;
        var center = (p + z2 / (2 * n)) / denominator;
        var half = z / denominator * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return (Math.Max(0, center - half), Math.Min(1, center + half));
    }
}
