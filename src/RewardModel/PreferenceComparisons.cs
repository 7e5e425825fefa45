using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.RewardModel;

/// <summary>Turns chat-level <see cref="PreferencePair"/>s into token-level <see cref="RewardComparison"/>s.</summary>
public static class PreferenceComparisons
{
    /// <summary>
    /// Each pair becomes the ordered comparisons of its ranking: edited &gt; chosen &gt; rejected when
    /// <see cref="PreferencePair.Edited"/> is set (3 comparisons, Llama 3 sec. 4.1.2), else chosen &gt; rejected.
    /// Each sequence is templated as prompt + response + eot, and each comparison knows where the response starts.
    /// A missing margin counts as 0.
    /// </summary>
    public static IReadOnlyList<RewardComparison> Build(IEnumerable<PreferencePair> pairs, ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(template);
        var result = new List<RewardComparison>();
        var i = 0;
        foreach (var p in pairs)
        {
            if (p is null) throw new ArgumentException($"preference pair {i} is null", nameof(pairs));
            var responseStart = 0;
            int[] Encode(string response)
            {
                var encoding = template.EncodeExample(p.Prompt, response);
                responseStart = encoding.PromptLength; // the same for every response of one prompt
                return encoding.Ids;
            }
            var ranked = p.Edited is { } edited && edited != p.Chosen
                ? new[] { Encode(edited), Encode(p.Chosen), Encode(p.Rejected) }
                : new[] { Encode(p.Chosen), Encode(p.Rejected) };
            result.AddRange(RewardComparison.FromRanking(ranked, (float)(p.Margin ?? 0), responseStart));
            i++;
        }
        return result;
    }
}
