namespace PostTrain.Model.Training;

/// <summary>
/// Learning rate as a pure function of the optimizer step, so a resumed run gets exactly the rates of an unbroken one.
/// Every kind starts with linear warmup from <c>peak / WarmupSteps</c> at step 0 to the peak at step <c>WarmupSteps − 1</c>
/// (Goyal et al. 2017; LLaMA uses 2000 warmup steps).
/// </summary>
public sealed record LearningRateSchedule
{
    public LearningRateScheduleKind Kind { get; init; } = LearningRateScheduleKind.Cosine;

    /// <summary>Peak learning rate. Default 3e-4 (LLaMA 1 7B/13B pre-training).</summary>
    public double PeakLearningRate { get; init; } = 3e-4;

    /// <summary>Linear warmup steps. Default 0 (no warmup).</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Steps of the whole run; the schedule ends at <c>TotalSteps − 1</c> and holds its last value after. Default 1000.</summary>
    public long TotalSteps { get; init; } = 1000;

    /// <summary>Final rate as a fraction of the peak for Cosine and WSD. Default 0.1 (LLaMA decays to 10% of the peak).</summary>
    public double MinRatio { get; init; } = 0.1;

    /// <summary>
    /// WSD only: fraction of <see cref="TotalSteps"/> spent decaying at the end. Default 0.1 (MiniCPM finds about 10%
    /// of the run enough, Hu et al. 2024 §4).
    /// </summary>
    public double DecayFraction { get; init; } = 0.1;

    public static LearningRateSchedule Constant(double lr, long warmupSteps = 0) =>
        new() { Kind = LearningRateScheduleKind.Constant, PeakLearningRate = lr, WarmupSteps = warmupSteps, TotalSteps = Math.Max(1, warmupSteps), MinRatio = 1 };

    public static LearningRateSchedule Cosine(double peak, long warmupSteps, long totalSteps, double minRatio = 0.1) =>
        new LearningRateSchedule { Kind = LearningRateScheduleKind.Cosine, PeakLearningRate = peak, WarmupSteps = warmupSteps, TotalSteps = totalSteps, MinRatio = minRatio }.Validate();

    public static LearningRateSchedule Wsd(double peak, long warmupSteps, long totalSteps, double decayFraction = 0.1, double minRatio = 0.0) =>
        new LearningRateSchedule { Kind = LearningRateScheduleKind.WarmupStableDecay, PeakLearningRate = peak, WarmupSteps = warmupSteps, TotalSteps = totalSteps, DecayFraction = decayFraction, MinRatio = minRatio }.Validate();

    public LearningRateSchedule Validate()
    {
        void Check(bool ok, string field, object actual, string expected)
        {
            if (!ok) throw new ArgumentException($"learning-rate schedule: {field} is {actual}, expected {expected}");
        }
        Check(PeakLearningRate >= 0 && double.IsFinite(PeakLearningRate), nameof(PeakLearningRate), PeakLearningRate, ">= 0 and finite");
        Check(WarmupSteps >= 0, nameof(WarmupSteps), WarmupSteps, ">= 0");
        Check(TotalSteps > 0, nameof(TotalSteps), TotalSteps, "> 0");
        Check(MinRatio is >= 0 and <= 1, nameof(MinRatio), MinRatio, "in [0, 1]");
        Check(DecayFraction is > 0 and <= 1, nameof(DecayFraction), DecayFraction, "in (0, 1]");
        if (Kind != LearningRateScheduleKind.Constant)
            Check(WarmupSteps <= TotalSteps, nameof(WarmupSteps), WarmupSteps, $"<= TotalSteps {TotalSteps}");
        return this;
    }

    /// <summary>The rate for optimizer step <paramref name="step"/> (0-based).</summary>
    public double At(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be >= 0");
        var peak = PeakLearningRate;
        if (step < WarmupSteps) return peak * (step + 1) / WarmupSteps;
        var min = peak * MinRatio;
        var last = TotalSteps - 1;
        switch (Kind)
        {
            case LearningRateScheduleKind.Constant:
                return peak;
            case LearningRateScheduleKind.Cosine:
            {
                var span = last - WarmupSteps + 1;
                if (span <= 1) return step >= last ? min : peak;
                // progress 0 at the first post-warmup step, 1 at the last step
                var progress = Math.Min(1.0, (double)(step - WarmupSteps) / (span - 1));
                return min + (peak - min) * 0.5 * (1 + Math.Cos(Math.PI * progress));
            }
            case LearningRateScheduleKind.WarmupStableDecay:
            {
                // MiniCPM eq. (1) decays exponentially; we use the linear decay later WSD work (Hägele et al. 2024,
                // arXiv:2405.18392) found to match cosine, ending exactly at MinRatio × peak.
                var decaySteps = Math.Max(1, (long)Math.Round(TotalSteps * DecayFraction));
                var decayStart = Math.Max(WarmupSteps, TotalSteps - decaySteps);
                if (step < decayStart) return peak;
                var span = last - decayStart;
                if (span <= 0) return min;
                var progress = Math.Min(1.0, (double)(step - decayStart) / span);
                return peak + (min - peak) * progress;
            }
            default:
                throw new InvalidOperationException($"unknown schedule kind {Kind}");
        }
    }
}
