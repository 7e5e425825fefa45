using PostTrain.Model.Inference;
using PostTrain.Model.Lora;

namespace PostTrain.Sampling.Tests;

public class CpuFastPathTests
{
    [Fact]
    public void Sampler_TakesTheFastPathOnTheCpu_AndNotWithLoraHooks()
    {
        using var model = SamplerTests.TinyModel(3);
        var options = new SamplingOptions { SamplesPerPrompt = 2, MaxNewTokens = 6, StopIds = [], Seed = 4 };
        var prompts = SamplerTests.RaggedPrompts();
        var plain = new Sampler(model, options).Generate(prompts);
        Assert.True(plain.Stats.DecodeSteps > 0);
        Assert.Equal(plain.Stats.DecodeSteps, plain.Stats.FastDecodeSteps);
        // Setup (the cache, the packed weights) is its own part of the wall time, outside the decode rate.
        var st = plain.Stats;
        Assert.True(st.SetupSeconds > 0 && st.PrefillSeconds > 0 && st.ForwardSeconds > 0, $"setup {st.SetupSeconds}, prefill {st.PrefillSeconds}, forward {st.ForwardSeconds}");
        Assert.True(st.SetupSeconds + st.PrefillSeconds + st.SelectSeconds + st.ForwardSeconds <= st.Seconds);
        Assert.Equal(st.GeneratedTokens / (st.Seconds - st.PrefillSeconds - st.SetupSeconds), st.DecodeTokensPerSecond, 6);

        // Hooked projections (LoRA) take the reference forward, which runs the hooks; disabled adapters change nothing.
        using var adapters = LoraAdapters.Attach(model, new LoraConfig());
        Assert.NotNull(CpuForward.WhyNot(model, 16));
        adapters.Enabled = false;
        var hooked = new Sampler(model, options).Generate(prompts);
        Assert.True(hooked.Stats.DecodeSteps > 0);
        Assert.Equal(0, hooked.Stats.FastDecodeSteps);
        Assert.Equal(plain.Sequences.Select(s => s.TokenIds), hooked.Sequences.Select(s => s.TokenIds));
    }

    [Fact]
    public void OneSlotDecoder_PrefillsPromptsLongerThanItsSlots_OnTheFastPath()
    {
        using var model = SamplerTests.TinyModel(3);
        // One slot (the bench's one-sequence-at-a-time run): the 7-token prompt must not fall back to libtorch's forward.
        var options = new SamplingOptions { SamplesPerPrompt = 1, BatchSize = 1, MaxNewTokens = 6, StopIds = [], Seed = 4 };
        var prompts = SamplerTests.RaggedPrompts();
        var plain = new Sampler(model, options).Generate(prompts);
        Assert.Equal(1, plain.Stats.Slots);
        Assert.Equal(prompts.Length, plain.Stats.FastPrefillPrompts);

        using var adapters = LoraAdapters.Attach(model, new LoraConfig());
        adapters.Enabled = false;
        var reference = new Sampler(model, options).Generate(prompts);
        Assert.Equal(0, reference.Stats.FastPrefillPrompts);
        Assert.Equal(reference.Sequences.Select(s => s.TokenIds), plain.Sequences.Select(s => s.TokenIds));
    }
}
