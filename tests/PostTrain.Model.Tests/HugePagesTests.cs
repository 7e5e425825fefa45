using PostTrain.Model.Inference;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests;

public class HugePagesTests
{
    [Theory]
    [InlineData(3)]                 // below the advice threshold: ordinary allocation
    [InlineData(5 * 262_144 + 17)]  // over 4 MiB and not a whole number of 2 MiB pages: the advice covers only whole pages inside
    public void Zeros_AreZeroAndWritable_WhateverTheAdvice(long floats)
    {
        using var t = HugePages.Zeros([floats], ScalarType.Float32, null);
        Assert.Equal(floats, t.numel());
        Assert.Equal(0f, t.abs().max().item<float>());
        t.fill_(2f);
        Assert.Equal(2f * floats, t.sum(ScalarType.Float64).item<double>());
    }

    [Fact]
    public void KvCache_StartsZeroed()
    {
        var c = new LlamaConfig { HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, VocabSize = 32, MaxPositionEmbeddings = 256 };
        using var cache = new KvCache(c, 160, 256); // 5 MiB a tensor: over the advice threshold
        for (var l = 0; l < c.NumHiddenLayers; l++)
        {
            var (keys, values) = cache.Layer(l);
            Assert.Equal(0f, keys.abs().max().item<float>());
            Assert.Equal(0f, values.abs().max().item<float>());
        }
    }

    [Fact]
    public unsafe void Advise_IgnoresShortAndUnalignedRanges()
    {
        var buffer = new byte[4096];
        fixed (byte* p = buffer) HugePages.Advise(p + 1, buffer.Length - 1);
        Assert.Equal(64u, HugePages.Alignment(1024));
        Assert.Equal(2u << 20, HugePages.Alignment(8L << 20));
    }
}
