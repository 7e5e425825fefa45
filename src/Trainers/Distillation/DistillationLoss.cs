using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Trainers.Distillation;

/// <summary>
/// Knowledge distillation on a teacher's top-k token distribution (Hinton et al. 2015; Llama 3 and Gemma 2 distil a
/// student from a larger teacher's outputs): forward KL(p_teacher ‖ p_student) at every response position, with the
/// teacher's k most likely tokens per position cached once (like the DPO reference log-probs) instead of its full
/// vocabulary. The teacher's top-k log-probs are renormalised over the k tokens; the student keeps its full softmax, so
/// mass it puts outside the teacher's top-k is penalised through the smaller log q on the top-k tokens.
/// </summary>
public static class DistillationLoss
{
    /// <summary>
    /// KL(p̃ ‖ q) = Σ_k p̃_k (log p̃_k − log q_k) per position, and its mean over the positions <paramref name="mask"/> keeps.
    /// </summary>
    /// <param name="studentLogits">(B, T, V) the student's logits, graph kept.</param>
    /// <param name="teacherTopIds">(B, T, K) int64 ids of the teacher's top-k tokens at each position.</param>
    /// <param name="teacherTopLogProbs">(B, T, K) the teacher's log-probs of those tokens (full-vocabulary log-softmax); constant.</param>
    /// <param name="mask">(B, T) bool, true where the position is trained (response tokens).</param>
    /// <returns>The mean KL over kept positions (scalar, graph kept) and the per-position KL (B, T), detached, 0 where masked.</returns>
    public static (Tensor Loss, Tensor PerPosition) Compute(Tensor studentLogits, Tensor teacherTopIds, Tensor teacherTopLogProbs, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherTopIds);
        ArgumentNullException.ThrowIfNull(teacherTopLogProbs);
        ArgumentNullException.ThrowIfNull(mask);
        if (studentLogits.dim() != 3) throw new ArgumentException($"studentLogits has shape ({string.Join(", ", studentLogits.shape)}), expected (B, T, V)", nameof(studentLogits));
        long B = studentLogits.shape[0], T = studentLogits.shape[1];
        if (!teacherTopIds.shape.SequenceEqual(teacherTopLogProbs.shape) || teacherTopIds.dim() != 3 || teacherTopIds.shape[0] != B || teacherTopIds.shape[1] != T)
            throw new ArgumentException($"teacherTopIds ({string.Join(", ", teacherTopIds.shape)}) and teacherTopLogProbs ({string.Join(", ", teacherTopLogProbs.shape)}) must both be (B, T, K) with B={B}, T={T}");
        if (!mask.shape.SequenceEqual(new[] { B, T })) throw new ArgumentException($"mask has shape ({string.Join(", ", mask.shape)}), expected ({B}, {T})", nameof(mask));

        using var scope = NewDisposeScope();
        var teacher = teacherTopLogProbs.detach().to_type(ScalarType.Float32);
        var logP = teacher - teacher.logsumexp(-1, keepdim: true);                         // (B, T, K) renormalised over the top-k
        var logQ = F.log_softmax(studentLogits, -1).gather(-1, teacherTopIds);              // (B, T, K)
        var kl = (logP.exp() * (logP - logQ)).sum(-1);                                      // (B, T)
        var keep = mask.to_type(ScalarType.Float32);
        var loss = (kl * keep).sum() / keep.sum().clamp_min(1);
        return (loss.MoveToOuterDisposeScope(), (kl * keep).detach().MoveToOuterDisposeScope());
    }
}
