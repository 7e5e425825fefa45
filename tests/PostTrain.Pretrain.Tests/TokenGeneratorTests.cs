using PostTrain.Model;
using PostTrain.Pretrain.Generation;
using static TorchSharp.torch;

namespace PostTrain.Pretrain.Tests;

public sealed class TokenGeneratorTests
{
    [Fact]
    public void Generate_TemperatureZero_EqualsArgmaxOfFullForward()
    {
        manual_seed(5);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        model.eval();
        int[] prompt = [3, 17, 42, 99, 5];
        var result = TokenGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 10 });

        Assert.Equal(prompt, result.PromptIds);
        Assert.Equal(10, result.TokenIds.Length);
        Assert.False(result.Stopped);
        var ids = prompt.ToList();
        using var _ = no_grad();
        for (var i = 0; i < 10; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(tensor(ids.Select(t => (long)t).ToArray(), [1, ids.Count]))[0, -1]; // (V,), no cache
            var next = (int)logits.argmax().item<long>();
            Assert.Equal(next, result.TokenIds[i]);
            Assert.Equal(logits.log_softmax(-1)[next].item<float>(), result.LogProbs[i], 4);
            ids.Add(next);
        }
    }

    [Fact]
    public void Generate_StopIdAndSeededSampling_StopAndRepeat()
    {
        manual_seed(6);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        int[] prompt = [1, 2, 3];
        var greedy = TokenGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6 });
        var stopped = TokenGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6, StopIds = [greedy.TokenIds[2]] });
        Assert.True(stopped.Stopped);
        Assert.Equal(greedy.TokenIds[..(Array.IndexOf(greedy.TokenIds, greedy.TokenIds[2]) + 1)], stopped.TokenIds);

        var sample = new GenerationOptions { MaxNewTokens = 12, Temperature = 1.5, TopP = 0.9, Seed = 11 };
        var s1 = TokenGenerator.Generate(model, prompt, sample);
        var s2 = TokenGenerator.Generate(model, prompt, sample);
        var s3 = TokenGenerator.Generate(model, prompt, sample with { Seed = 12 });
        Assert.Equal(s1.TokenIds, s2.TokenIds);
        Assert.NotEqual(s1.TokenIds, s3.TokenIds);
    }
}
