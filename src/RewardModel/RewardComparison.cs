namespace PostTrain.RewardModel;

/// <summary>
/// One ordered comparison the Bradley–Terry loss sees: <see cref="Chosen"/> should score above <see cref="Rejected"/>.
/// Both are full templated sequences (prompt + response + eot) as token ids.
/// </summary>
/// <param name="Chosen">Ids of the better sequence.</param>
/// <param name="Rejected">Ids of the worse sequence.</param>
/// <param name="Margin">Llama 2's m(r) (sec. 3.2.2, eq. 2): larger for clearer preferences; used only when
/// <see cref="RewardModelOptions.UseMargin"/> is set.</param>
/// <param name="ResponseStart">Index of the first response id in both sequences (they share the prompt), for the
/// language-modelling term on <see cref="Chosen"/> (<see cref="RewardModelOptions.LanguageModelingWeight"/>);
/// 0 = unknown, and the comparison then adds nothing to that term.</param>
public sealed record RewardComparison(int[] Chosen, int[] Rejected, float Margin = 0f, int ResponseStart = 0)
{
    /// <summary>
    /// All ordered pairs of a ranking given best first: Llama 3 (sec. 4.1.2) ranks edited &gt; chosen &gt; rejected and
    /// trains on every pair, so 3 responses give 3 comparisons ((0,1), (0,2), (1,2)), k give k(k−1)/2.
    /// Every comparison carries the ranking's <paramref name="margin"/> and <paramref name="responseStart"/>.
    /// </summary>
    public static IReadOnlyList<RewardComparison> FromRanking(IReadOnlyList<int[]> rankedBestFirst, float margin = 0f, int responseStart = 0)
    {
        ArgumentNullException.ThrowIfNull(rankedBestFirst);
        if (rankedBestFirst.Count < 2)
            throw new ArgumentException($"a ranking needs at least 2 responses, got {rankedBestFirst.Count}", nameof(rankedBestFirst));
        var pairs = new List<RewardComparison>(rankedBestFirst.Count * (rankedBestFirst.Count - 1) / 2);
        for (var i = 0; i < rankedBestFirst.Count; i++)
            for (var j = i + 1; j < rankedBestFirst.Count; j++)
                pairs.Add(new RewardComparison(rankedBestFirst[i], rankedBestFirst[j], margin, responseStart));
        return pairs;
    }
}
