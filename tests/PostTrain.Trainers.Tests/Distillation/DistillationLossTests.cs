using PostTrain.Trainers.Distillation;
using static TorchSharp.torch;

namespace PostTrain.Trainers.Tests.Distillation;

public sealed class DistillationLossTests
{
    [Fact]
    public void Compute_FullVocabularyUniformStudent_EqualsLogVMinusTeacherEntropy()
    {
        double[] p = [0.5, 0.3, 0.2];
        using var logits = zeros(1, 1, 3, requires_grad: true);                  // uniform student: q = 1/3
        using var ids = tensor(new long[] { 0, 1, 2 }).reshape(1, 1, 3);
        using var logProbs = tensor(p.Select(x => Math.Log(x)).ToArray()).reshape(1, 1, 3).to_type(ScalarType.Float32);
        using var mask = ones(1, 1, dtype: ScalarType.Bool);

        var (loss, perPosition) = DistillationLoss.Compute(logits, ids, logProbs, mask);

        var expected = p.Sum(x => x * Math.Log(x)) + Math.Log(3);                  // KL(p ‖ uniform) = log V − H(p)
        Assert.Equal(expected, loss.item<float>(), 5);
        Assert.Equal(expected, perPosition[0, 0].item<float>(), 5);
        loss.backward();
        // ∂KL/∂logits = q − p for a full-vocabulary teacher.
        var grad = logits.grad!.reshape(-1).data<float>().ToArray();
        for (var i = 0; i < 3; i++) Assert.Equal(1.0 / 3 - p[i], grad[i], 5);
    }

    [Fact]
    public void Compute_TopTwoOfThree_RenormalisesTheTeacherAndMasksPositions()
    {
        // Teacher p = (0.6, 0.3, 0.1): top-2 ids (0, 1) renormalised to (2/3, 1/3). Student logits (ln 4, ln 2, ln 2): q = (0.5, 0.25, 0.25).
        using var logits = tensor(new[] { (float)Math.Log(4), (float)Math.Log(2), (float)Math.Log(2), 0f, 0f, 0f }).reshape(1, 2, 3);
        using var ids = tensor(new long[] { 0, 1, 0, 1 }).reshape(1, 2, 2);
        using var logProbs = tensor(new[] { (float)Math.Log(0.6), (float)Math.Log(0.3), (float)Math.Log(0.6), (float)Math.Log(0.3) }).reshape(1, 2, 2);
        using var mask = tensor(new[] { true, false }).reshape(1, 2);

        var (loss, perPosition) = DistillationLoss.Compute(logits, ids, logProbs, mask);

        var expected = 2.0 / 3 * Math.Log(2.0 / 3 / 0.5) + 1.0 / 3 * Math.Log(1.0 / 3 / 0.25);
        Assert.Equal(expected, loss.item<float>(), 5);
        Assert.Equal(0f, perPosition[0, 1].item<float>());
    }

    [Fact]
    public void Compute_StudentEqualsTeacher_Zero()
    {
        using var teacherLogits = randn(2, 3, 5);
        using var logProbs = nn.functional.log_softmax(teacherLogits, -1);
        using var ids = arange(5).expand(2, 3, 5).contiguous();
        using var mask = ones(2, 3, dtype: ScalarType.Bool);
        var (loss, _) = DistillationLoss.Compute(teacherLogits, ids, logProbs, mask);
        Assert.Equal(0.0, loss.item<float>(), 5);
    }

    [Fact]
    public void Compute_MismatchedShapes_Refused() =>
        Assert.Throws<ArgumentException>(() => DistillationLoss.Compute(zeros(1, 2, 3), zeros(1, 2, 2, dtype: ScalarType.Int64), zeros(1, 2, 3), ones(1, 2, dtype: ScalarType.Bool)));
}
