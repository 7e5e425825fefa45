using PostTrain.Model.Tokenization;
using TorchSharp;

namespace PostTrain.Sampling;

/// <summary>One greedy response per prompt, as evaluation and the report's head-to-heads ask a checkpoint.</summary>
public static class GreedyResponses
{
    /// <summary>Tokens an evaluation lets a response run: the built-in tasks' longest answer, a worked two-digit product
    /// ("7 * 8 = 56, 7 * 3 + 5 = 26, so 266"), is 27 tokens and its end of turn.</summary>
    public const int EvaluationMaxNewTokens = 32;

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
