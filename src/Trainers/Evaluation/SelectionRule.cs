namespace PostTrain.Trainers.Evaluation;

/// <summary>How <see cref="Evaluator.SelectBest"/> ranks candidates. Every rule ends with mean reward, then input order.</summary>
public enum SelectionRule
{
    /// <summary>Default. Highest exact-match accuracy where some prompt has a checker (a verified signal beats a learned one),
    /// ties broken by RM win rate against the current sampler; with no checker at all, win rate alone.</summary>
    ExactMatchThenWinRate,

    /// <summary>Highest win rate; exact-match accuracy breaks ties.</summary>
    WinRateThenExactMatch,
}
