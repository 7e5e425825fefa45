using PostTrain.Model.Inference;

namespace PostTrain.RewardModel;

/// <summary>
/// <see cref="RewardModel.Score(IReadOnlyList{int[]}, IReadOnlyList{int}?, int)"/> through <see cref="CpuForward"/>: the
/// sequences go in unpadded, every token a row, and each reward is the head on its last token's hidden state plus λ times
/// the response's log-probability, read from the same rows' logits. Why: rejection sampling scores every sampled response
/// each round, and at the small presets' shapes libtorch's forward spent most of its time in per-op overhead and padding.
/// </summary>
internal static class CpuRewards
{
    /// <summary>Rewards in input order, or null when the backbone cannot run on <see cref="CpuForward"/> (see <see cref="CpuForward.WhyNot"/>).</summary>
    public static float[]? Score(RewardModel rm, IReadOnlyList<int[]> sequences, IReadOnlyList<int>? responseStarts)
    {
        if (rm.score.weight!.device_type != TorchSharp.DeviceType.CPU) return null;
        var head = rm.score.weight!.detach().contiguous().data<float>().ToArray();
        var result = new float[sequences.Count];
        var ran = CpuForward.TryEachSequence(rm.Backbone, sequences, (i, fast, row) =>
        {
            var ids = sequences[i];
            var hidden = fast.Hidden(row + rm.LastToken(ids));
            var reward = 0f;
            for (var k = 0; k < head.Length; k++) reward += head[k] * hidden[k];
            if (rm.LikelihoodWeight > 0)
            {
                // Position t's id is predicted by the row before it.
                var logProb = 0f;
                for (var t = responseStarts![i]; t < ids.Length; t++) logProb += fast.LogProb(row + t - 1, ids[t]);
                reward += (float)(rm.LikelihoodWeight * logProb);
            }
            result[i] = reward;
        });
        return ran is null ? null : result;
    }
}
