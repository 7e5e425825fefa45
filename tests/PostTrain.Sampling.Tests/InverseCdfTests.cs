using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Sampling.Tests;

public class InverseCdfTests
{
    /// <summary>The decode loop's one-pass choice equals the tensor path: the same tokens, and log_softmax at them.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChooseWithLogProbs_EqualsTheTensorPath(bool greedy)
    {
        manual_seed(3);
        using var logits = randn(37, 300) * 4;
        var keys = Enumerable.Range(0, 37).Select(i => CounterRandom.StreamKey(9, $"p{i}", i % 3)).ToArray();
        var steps = Enumerable.Range(0, 37).Select(i => i % 5).ToArray();
        var (tokens, logProbs) = InverseCdf.ChooseWithLogProbs(logits, keys, steps, greedy);
        using (tokens)
        using (logProbs)
        {
            using var expected = greedy ? logits.argmax(-1) : InverseCdf.Choose(logits, keys, steps, onHost: false);
            Assert.Equal(expected.data<long>().ToArray(), tokens.data<long>().ToArray());
            using var reference = F.log_softmax(logits, -1).gather(1, tokens.unsqueeze(1)).squeeze(1);
            var diff = (reference - logProbs).abs().max().item<float>();
            Assert.True(diff < 1e-5f, $"max |log-prob − log_softmax| = {diff}");
        }
    }

    [Fact]
    public void ChooseWithLogProbs_RefusesLogitsItCannotReadInPlace()
    {
        using var logits = randn(4, 10, dtype: ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => InverseCdf.ChooseWithLogProbs(logits, new ulong[4], new int[4]));
    }
}
