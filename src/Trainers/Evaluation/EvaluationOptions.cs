namespace PostTrain.Trainers.Evaluation;

/// <summary>Options of <see cref="Evaluator"/>. Each option's doc gives its default and meaning.</summary>
public sealed record EvaluationOptions
{
    /// <summary><see cref="SelectionRule"/>, default ExactMatchThenWinRate. How the best candidate is chosen.</summary>
    public SelectionRule Rule { get; init; } = SelectionRule.ExactMatchThenWinRate;

    /// <summary>double, default 0.0. Reward differences at or below this count as ties (½ a win); 0 = only exactly equal
    /// scores, e.g. identical responses.</summary>
    public double TieTolerance { get; init; }

    /// <summary>bool, default false. Also evaluate the uniform weight average of all candidates (Llama 3 sec. 4.1.5 averages
    /// models from runs with different hyper-parameters; Wortsman et al. 2022, model soups).</summary>
    public bool IncludeAverage { get; init; }

    /// <summary>string, default "average". Candidate name of the weight average.</summary>
    public string AverageName { get; init; } = "average";

    public EvaluationOptions Validate()
    {
        if (TieTolerance < 0 || double.IsNaN(TieTolerance))
            throw new ArgumentException($"EvaluationOptions.TieTolerance is {TieTolerance}, expected >= 0");
        if (!Enum.IsDefined(Rule))
            throw new ArgumentException($"EvaluationOptions.Rule is {Rule}, expected {string.Join("|", Enum.GetNames<SelectionRule>())}");
        if (string.IsNullOrWhiteSpace(AverageName))
            throw new ArgumentException("EvaluationOptions.AverageName is empty, expected a candidate name");
        return this;
    }
}
