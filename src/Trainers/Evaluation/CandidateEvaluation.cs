namespace PostTrain.Trainers.Evaluation;

/// <summary>
/// One candidate's figures on the held-out prompts. Win rate: per prompt the reward model scores the candidate's greedy
/// response against the current sampler's; a win counts 1, a tie ½, a loss 0. Intervals are Wilson 95%.
/// </summary>
public sealed record CandidateEvaluation
{
    public required string Name { get; init; }
    public required string CheckpointDir { get; init; }
    public IReadOnlyDictionary<string, double>? Hyperparameters { get; init; }

    /// <summary>Prompts compared against the baseline.</summary>
    public required int Prompts { get; init; }
    public required int Wins { get; init; }
    public required int Ties { get; init; }
    public required int Losses { get; init; }

    /// <summary>(wins + ties/2) / prompts.</summary>
    public required double WinRate { get; init; }
    public required double WinRateLow { get; init; }
    public required double WinRateHigh { get; init; }

    /// <summary>Mean reward-model score of the candidate's responses, and of the baseline's on the same prompts.</summary>
    public required double MeanReward { get; init; }
    public required double BaselineMeanReward { get; init; }

    /// <summary>Prompts with a checker, and how many of those the candidate answered exactly right.</summary>
    public required int Checked { get; init; }
    public required int Correct { get; init; }

    /// <summary>Correct / Checked; null when no prompt has a checker.</summary>
    public double? ExactMatch { get; init; }
    public double? ExactMatchLow { get; init; }
    public double? ExactMatchHigh { get; init; }

    /// <summary>Exact match per task kind (e.g. "Addition"); empty when no prompt has a checker. A change in the total
    /// often hides opposite moves of the kinds: rejection sampling keeps more data from the kinds the policy already solves.</summary>
    public IReadOnlyDictionary<string, double> ExactMatchByKind { get; init; } = new Dictionary<string, double>();

    /// <summary>Exact match with k solved tasks of the same kind before each prompt (<see cref="FewShotPrompts"/>);
    /// null when not measured (k = 0) or nothing checked.</summary>
    public double? FewShotExactMatch { get; init; }
}
