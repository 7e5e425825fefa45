namespace PostTrain.Workflows.Reports;

/// <summary>
/// Exact McNemar test for two models answering the same prompts: only the discordant prompts count (A right and B
/// wrong, or the reverse), and under "no difference" each is a fair coin. Two intervals that overlap can still hide a
/// clear difference, because both models face the same prompts; this test uses the pairing.
/// </summary>
public static class McNemarTest
{
    /// <summary>Two-sided exact p-value: 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), capped at 1; 1 when b + c = 0.</summary>
    /// <param name="onlyA">Prompts A answered right and B wrong.</param>
    /// <param name="onlyB">Prompts B answered right and A wrong.</param>
    public static double PValue(int onlyA, int onlyB)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(onlyA);
        ArgumentOutOfRangeException.ThrowIfNegative(onlyB);
        var n = onlyA + onlyB;
        if (n == 0) return 1;
        var k = Math.Min(onlyA, onlyB);
        // Sum C(n, i)·2^-n for i ≤ k in log space: n reaches thousands, where 2^-n underflows.
        var logTerm = -n * Math.Log(2);          // i = 0
        var sum = Math.Exp(logTerm);
        for (var i = 1; i <= k; i++)
        {
            logTerm += Math.Log(n - i + 1) - Math.Log(i);
            sum += Math.Exp(logTerm);
        }
        return Math.Min(1, 2 * sum);
    }
}
