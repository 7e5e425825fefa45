namespace PostTrain.Pretrain.Scaling;

/// <summary>How <see cref="ScalingLawFitter"/> searches. The exponents are searched on a grid first because the
/// objective is far from convex in them (Hoffmann et al. 2022 start L-BFGS from a grid for the same reason).</summary>
public sealed record ScalingLawFitOptions
{
    /// <summary>Default 0.05. Smallest exponent α or β tried; Chinchilla's fits put both near 0.3.</summary>
    public double ExponentMin { get; init; } = 0.05;

    /// <summary>Default 1.5. Largest exponent tried; beyond it a term vanishes within any grid of small runs.</summary>
    public double ExponentMax { get; init; } = 1.5;

    /// <summary>Default 0.01. Spacing of the exponent grid before Levenberg–Marquardt refines the best cell.</summary>
    public double ExponentStep { get; init; } = 0.01;

    /// <summary>Default 1e-3 (Hoffmann et al. 2022, sec. D.2). Huber δ on log-loss residuals: a residual larger than
    /// δ (a run that diverged or stopped early) counts linearly, so one bad run does not bend the whole fit.</summary>
    public double HuberDelta { get; init; } = 1e-3;

    /// <summary>Default 200. Levenberg–Marquardt iterations after the grid.</summary>
    public int MaxIterations { get; init; } = 200;

    /// <summary>Checks every option; throws naming the option, its value and what was expected.</summary>
    public ScalingLawFitOptions Validate()
    {
        void Check(bool ok, string name, object value, string expected)
        {
            if (!ok) throw new ArgumentException($"option {name} is {value}, expected {expected}", name);
        }
        Check(ExponentMin > 0 && double.IsFinite(ExponentMin), nameof(ExponentMin), ExponentMin, "> 0");
        Check(ExponentMax > ExponentMin && double.IsFinite(ExponentMax), nameof(ExponentMax), ExponentMax, $"> ExponentMin {ExponentMin}");
        Check(ExponentStep > 0 && (ExponentMax - ExponentMin) / ExponentStep <= 10_000, nameof(ExponentStep), ExponentStep, "> 0 and at most 10,000 grid points per exponent");
        Check(HuberDelta > 0, nameof(HuberDelta), HuberDelta, "> 0");
        Check(MaxIterations >= 0, nameof(MaxIterations), MaxIterations, ">= 0");
        return this;
    }
}
