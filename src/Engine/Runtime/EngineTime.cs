namespace PostTrain.Engine.Runtime;

/// <summary>
/// Every duration the engine computes from numbers it was given, capped in seconds before it becomes a
/// <see cref="TimeSpan"/>: <c>TimeSpan.FromSeconds</c> throws on NaN and on anything past ~29,000 years, and an
/// exception there would leave a run Running forever.
/// </summary>
public static class EngineTime
{
    /// <summary>The wait before the next attempt after <paramref name="failures"/> failures: backoff·2^(failures−1), at most <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(double backoffSeconds, int failures, TimeSpan max)
    {
        var seconds = backoffSeconds * Math.Pow(2, Math.Max(0, failures - 1));
        return double.IsNaN(seconds) || seconds >= max.TotalSeconds ? max : Seconds(seconds, max);
    }

    /// <summary><paramref name="seconds"/> as a duration in [0, <paramref name="max"/>]; NaN and negatives give zero.</summary>
    public static TimeSpan Seconds(double seconds, TimeSpan max) =>
        double.IsNaN(seconds) || seconds <= 0 ? TimeSpan.Zero : seconds >= max.TotalSeconds ? max : TimeSpan.FromSeconds(seconds);
}
