using PostTrain.Trainers.Dpo;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Tests.Dpo;

public class DpoLossTests
{
    // β = 0.1, policy chosen −10, rejected −12, reference chosen −11, rejected −11.5 ⇒ h = 2 − 0.5 = 1.5, βh = 0.15.
    private const double Beta = 0.1, H = 1.5;

    private static (double Loss, double Chosen, double Rejected) Run(DpoLossType type, double eps = 0)
    {
        using var scope = NewDisposeScope();
        var (losses, c, r) = DpoLoss.Compute(tensor(new[] { -10.0 }), tensor(new[] { -12.0 }), tensor(new[] { -11.0 }), tensor(new[] { -11.5 }),
            type, Beta, eps);
        Assert.Equal([1L], losses.shape);
        return (losses.item<double>(), c.item<double>(), r.item<double>());
    }

    private static double Softplus(double x) => Math.Log(1 + Math.Exp(x)); // −log σ(−x)

    [Fact]
    public void Compute_Sigmoid_EqualsClosedForm()
    {
        var (loss, chosen, rejected) = Run(DpoLossType.Sigmoid);
        Assert.Equal(0.6209570, loss, 6); // −log σ(0.15)
        Assert.Equal(Softplus(-Beta * H), loss, 12);
        Assert.Equal(0.1, chosen, 12);   // β (−10 − −11)
        Assert.Equal(-0.05, rejected, 12); // β (−12 − −11.5)
    }

    [Fact]
    public void Compute_SigmoidWithLabelSmoothing_IsConservativeDpo()
    {
        var (loss, _, _) = Run(DpoLossType.Sigmoid, eps: 0.2);
        Assert.Equal(0.8 * Softplus(-Beta * H) + 0.2 * Softplus(Beta * H), loss, 12);
    }

    [Fact]
    public void Compute_Ipo_EqualsClosedForm()
    {
        var (loss, chosen, rejected) = Run(DpoLossType.Ipo);
        Assert.Equal(Math.Pow(H - 1 / (2 * Beta), 2), loss, 10); // (1.5 − 5)² = 12.25
        Assert.Equal(12.25, loss, 10);
        Assert.Equal(0.1, chosen, 12);
        Assert.Equal(-0.05, rejected, 12);
    }

    [Fact]
    public void Compute_Hinge_EqualsClosedForm()
    {
        var (loss, _, _) = Run(DpoLossType.Hinge);
        Assert.Equal(0.85, loss, 12); // relu(1 − 0.15)
    }

    [Fact]
    public void Compute_Robust_EqualsClosedForm()
    {
        var (loss, chosen, _) = Run(DpoLossType.Robust, eps: 0.1);
        Assert.Equal((0.9 * Softplus(-Beta * H) - 0.1 * Softplus(Beta * H)) / 0.8, loss, 12);
        Assert.Equal(0.1, chosen, 12);
    }

    [Fact]
    public void Compute_RobustWithoutSmoothing_EqualsSigmoid()
    {
        Assert.Equal(Run(DpoLossType.Sigmoid).Loss, Run(DpoLossType.Robust).Loss, 12);
    }

    [Fact]
    public void Compute_PolicyEqualsReference_LossIsLn2AndRewardsZero()
    {
        using var scope = NewDisposeScope();
        var c = tensor(new[] { -3.0f, -7.5f, -20f });
        var r = tensor(new[] { -4.0f, -2.5f, -21f });
        var (losses, cr, rr) = DpoLoss.Compute(c, r, c.clone(), r.clone());
        foreach (var l in losses.data<float>()) Assert.Equal(Math.Log(2), l, 6);
        Assert.All(cr.data<float>(), v => Assert.Equal(0f, v));
        Assert.All(rr.data<float>(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BatchMetrics_HandMadeBatch_AccuracyAndMarginsAsTrlDefines()
    {
        using var scope = NewDisposeScope();
        // Pair 0: h = 1.5 (chosen reward 0.1 > −0.05); pair 1: rewards swapped sign.
        var pc = tensor(new[] { -10.0f, -13f });
        var pr = tensor(new[] { -12.0f, -11f });
        var rc = tensor(new[] { -11.0f, -12f });
        var rr = tensor(new[] { -11.5f, -12f });
        var (losses, c, r) = DpoLoss.Compute(pc, pr, rc, rr);
        var m = DpoTrainer.BatchMetrics(losses.mean(), c, r, pc, pr, tensor(0f));
        Assert.Equal(0.5, m[DpoTrainer.RewardsAccuracies], 6);
        Assert.Equal((0.1 + -0.1) / 2, m[DpoTrainer.RewardsChosen], 6);
        Assert.Equal((-0.05 + 0.1) / 2, m[DpoTrainer.RewardsRejected], 6);
        Assert.Equal((0.15 + -0.2) / 2, m[DpoTrainer.RewardsMargins], 6);
        Assert.Equal(-11.5, m[DpoTrainer.LogpsChosen], 6);
        Assert.Equal(-11.5, m[DpoTrainer.LogpsRejected], 6);
        Assert.Equal((Softplus(-0.15) + Softplus(0.2)) / 2, m[DpoTrainer.Loss], 5);
    }

    [Fact]
    public void Compute_LossGradient_FlowsToPolicyOnly()
    {
        using var scope = NewDisposeScope();
        var pc = tensor(new[] { -10.0f }, requires_grad: true);
        var rc = tensor(new[] { -11.0f }, requires_grad: true);
        var (losses, _, _) = DpoLoss.Compute(pc, tensor(new[] { -12.0f }), rc, tensor(new[] { -11.5f }));
        losses.sum().backward();
        // d/dpc −log σ(β h) = −β σ(−β h)
        Assert.Equal(-0.1 / (1 + Math.Exp(0.15)), pc.grad!.item<float>(), 6);
        Assert.Null(rc.grad);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(-1.0, 0.0)]
    [InlineData(0.1, 0.5)]
    public void Compute_BadBetaOrSmoothing_Throws(double beta, double eps)
    {
        using var scope = NewDisposeScope();
        var t = tensor(new[] { 0f });
        Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.Compute(t, t, t, t, DpoLossType.Sigmoid, beta, eps));
    }
}
