namespace PostTrain.Engine.Definitions;

/// <summary>
/// Bounds a definition must stay within, checked by <c>validate</c> before anything runs, so that no value can
/// overflow a <see cref="TimeSpan"/> or an <see cref="int"/> inside the engine, or keep a run alive forever.
/// </summary>
public static class WorkflowLimits
{
    /// <summary><c>retry.maxAttempts</c>: at most this many executions of one step.</summary>
    public const int MaxAttempts = 20;
    /// <summary><c>retry.backoffSeconds</c>: at most one day before the second attempt.</summary>
    public const double MaxBackoffSeconds = 86_400;
    /// <summary>A repeat's <c>count</c>: at most this many rounds.</summary>
    public const int MaxRepeatCount = 10_000;
}
