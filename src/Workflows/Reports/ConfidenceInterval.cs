namespace PostTrain.Workflows.Reports;

/// <summary>A proportion with its 95% Wilson score interval (Wilson 1927), sound at small n and near 0 or 1.</summary>
public sealed record ConfidenceInterval(double Estimate, double Low, double High, int Successes, int Trials)
{
    public static ConfidenceInterval Wilson(int successes, int trials, double z = 1.959964)
    {
        if (trials <= 0) throw new ArgumentOutOfRangeException(nameof(trials), trials, "need at least one trial");
        if (successes < 0 || successes > trials)
            throw new ArgumentOutOfRangeException(nameof(successes), successes, $"must be within 0..{trials}");
        double n = trials, phat = successes / n, z2 = z * z;
        var centre = (phat + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(phat * (1 - phat) / n + z2 / (4 * n * n));
        return new ConfidenceInterval(phat, Math.Max(0, centre - half), Math.Min(1, centre + half), successes, trials);
    }

    public override string ToString() =>
        $"{QualityReportWriter.Pct(Estimate)} [{QualityReportWriter.Pct(Low)}, {QualityReportWriter.Pct(High)}] ({Successes}/{Trials})";
}
