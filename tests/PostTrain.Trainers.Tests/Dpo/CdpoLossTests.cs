using PostTrain.Trainers.Dpo;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Tests.Dpo;

/// <summary>Conservative DPO (Mitchell 2023) against its closed form.</summary>
public class CdpoLossTests
{
    private static double LogSigmoid(double x) => -Math.Log(1 + Math.Exp(-x));

    [Theory]
    [InlineData(1.0, 0.1, -1.0, -2.0, 0.0, 0.0)]
    [InlineData(0.5, 0.25, -3.0, -1.0, -2.5, -1.5)]
    public void Cdpo_EqualsClosedForm(double beta, double eps, double pc, double pr, double rc, double rr)
    {
        using var a = tensor(new[] { (float)pc });
        using var b = tensor(new[] { (float)pr });
        using var c = tensor(new[] { (float)rc });
        using var d = tensor(new[] { (float)rr });
        var (losses, chosen, rejected) = DpoLoss.Compute(a, b, c, d, DpoLossType.Cdpo, beta, eps);
        var h = (pc - pr) - (rc - rr);
        var expected = -(1 - eps) * LogSigmoid(beta * h) - eps * LogSigmoid(-beta * h);
        Assert.Equal(expected, losses.item<float>(), 5);
        Assert.Equal(beta * (pc - rc), chosen.item<float>(), 5);
        Assert.Equal(beta * (pr - rr), rejected.item<float>(), 5);
        losses.Dispose(); chosen.Dispose(); rejected.Dispose();
    }

    [Fact]
    public void Cdpo_GradientVanishesAtTheFiniteMargin_LogOneMinusEpsOverEps()
    {
        const double beta = 0.5, eps = 0.2;
        var target = Math.Log((1 - eps) / eps) / beta; // the h where cDPO stops pushing
        foreach (var (h, sign) in new[] { (target, 0), (target - 1, -1), (target + 1, 1) })
        {
            using var chosen = tensor(new[] { (float)h }, requires_grad: true);
            using var zero = zeros(1);
            var (losses, r1, r2) = DpoLoss.Compute(chosen, zero, zero, zero, DpoLossType.Cdpo, beta, eps);
            losses.sum().backward();
            var grad = chosen.grad!.item<float>();
            if (sign == 0) Assert.Equal(0, grad, 5);
            else Assert.Equal(sign, Math.Sign(grad)); // below the margin the loss still falls with h, above it rises
            losses.Dispose(); r1.Dispose(); r2.Dispose();
        }
    }

    [Fact]
    public void Cdpo_WithoutLabelSmoothing_Refused()
    {
        using var x = zeros(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.Compute(x, x, x, x, DpoLossType.Cdpo, 0.1, 0));
        Assert.Contains("cDPO needs label smoothing", e.Message);
        Assert.Contains("LabelSmoothing is 0, expected in (0, 0.5) for cDPO", Assert.Throws<ArgumentException>(() => new DpoOptions { LossType = DpoLossType.Cdpo }.Validate()).Message);
    }
}
