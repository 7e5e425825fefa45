using PostTrain.Model.Training;

namespace PostTrain.Model.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Cosine_WarmupThenDecay_HitsPeakMidpointAndMin()
    {
        var s = LearningRateSchedule.Cosine(peak: 1e-3, warmupSteps: 10, totalSteps: 111, minRatio: 0.1);
        Assert.Equal(1e-4, s.At(0), 12);       // linear warmup from peak / warmup
        Assert.Equal(5e-4, s.At(4), 12);
        Assert.Equal(1e-3, s.At(9), 12);       // peak at the end of warmup
        Assert.Equal(1e-3, s.At(10), 12);      // cosine starts at the peak
        Assert.Equal(5.5e-4, s.At(60), 12);    // halfway between steps 10 and 110: (peak + min) / 2
        Assert.Equal(1e-4, s.At(110), 12);     // min at the last step
        Assert.Equal(1e-4, s.At(500), 12);     // and held after
        for (var t = 10; t < 110; t++) Assert.True(s.At(t + 1) < s.At(t), $"cosine must decrease at step {t}");
    }

    [Fact]
    public void Wsd_StableThenLinearDecayOverFraction()
    {
        var s = LearningRateSchedule.Wsd(peak: 2e-3, warmupSteps: 5, totalSteps: 100, decayFraction: 0.2, minRatio: 0.0);
        Assert.Equal(4e-4, s.At(0), 12);
        Assert.Equal(2e-3, s.At(5), 12);
        Assert.Equal(2e-3, s.At(79), 12);      // stable until the last 20% of the run
        Assert.Equal(2e-3, s.At(80), 12);      // decay starts at the peak
        Assert.True(s.At(81) < 2e-3);
        Assert.Equal(2e-3 * (1 - 10.0 / 19), s.At(90), 12);
        Assert.Equal(0.0, s.At(99), 12);
    }

    [Fact]
    public void Constant_WithWarmup_HoldsPeak()
    {
        var s = LearningRateSchedule.Constant(3e-4, warmupSteps: 3);
        Assert.Equal(1e-4, s.At(0), 12);
        Assert.Equal(3e-4, s.At(2), 12);
        Assert.Equal(3e-4, s.At(1_000_000), 12);
    }

    [Fact]
    public void Validate_BadField_ThrowsNamingFieldActualExpected()
    {
        var e = Assert.Throws<ArgumentException>(() => LearningRateSchedule.Cosine(1e-3, warmupSteps: 200, totalSteps: 100));
        Assert.Contains("WarmupSteps is 200, expected <= TotalSteps 100", e.Message);
        e = Assert.Throws<ArgumentException>(() => LearningRateSchedule.Wsd(1e-3, 0, 100, decayFraction: 1.5));
        Assert.Contains("DecayFraction is 1.5", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Constant(1e-3).At(-1));
    }
}
