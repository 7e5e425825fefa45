using PostTrain.Model.Tokenization;
using TorchSharp;

namespace PostTrain.Sampling;

/// <summary>One greedy response per prompt, as evaluation and the report's head-to-heads ask a checkpoint.</summary>
public static class GreedyResponses
{
    /// <summary>The responses of <paramref name="checkpointDir"/>, in prompt order.</summary>
    public static IReadOnlyList<string> Generate(string checkpointDir, IReadOnlyList<IReadOnlyList<ChatMessage>> messages,
        int maxNewTokens, torch.Device device, long seed)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var sampler = Sampler.FromCheckpoint(checkpointDir, new SamplingOptions
        {
            SamplesPerPrompt = 1,
            Temperature = 0,
            MaxNewTokens = maxNewTokens,
            // One response per prompt: 128 rows decode about 20% faster than the sampler's default 32 on 2 cores.
            BatchSize = 128,
            Seed = seed,
        }, device);
        var prompts = messages.Select((m, i) => new SamplingPrompt($"p{i:D6}", m)).ToList();
        var byId = sampler.Sample(prompts).Responses.ToDictionary(r => r.PromptId, r => r.Response);
        return prompts.Select(p => byId[p.Id]).ToList();
    }
}
