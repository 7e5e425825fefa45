namespace PostTrain.Model.Prompts;

/// <summary>The sizes of a run's task set (<see cref="IPromptSource.CreateTaskSet"/>); the GenerateTaskData activity's inputs derive from it.</summary>
public sealed record TaskSetOptions
{
    /// <summary>Default 12000. Pretraining conversations of the built-in corpus (also the base's corpus on the user's prompts when no base is given).</summary>
    public int Examples { get; init; } = 12000;

    /// <summary>Default 200. Held-out tasks for exact-match evaluation; never trained on.</summary>
    public int HeldOut { get; init; } = 200;

    /// <summary>Default 256. Prompts sampled N times each round (rejection sampling).</summary>
    public int Prompts { get; init; } = 256;

    /// <summary>Default 1. Rounds that get their own fresh prompts (<see cref="Prompts"/> each); later rounds reuse them in turn.</summary>
    public int Rounds { get; init; } = 1;

    /// <summary>Default 384. Prompts whose samples the verifier annotates into reward-model preference pairs.</summary>
    public int AnnotationPrompts { get; init; } = 384;

    /// <summary>Default 0. Tasks whose reference answers the reward model learns before its pairs; drawn apart from every other prompt.</summary>
    public int ReferencePrompts { get; init; }

    /// <summary>Default 1. Built-in task difficulty 1..6: numbers have up to difficulty+1 digits. 1 suits the small preset's demo budget.</summary>
    public int Difficulty { get; init; } = 1;

    /// <summary>Default false (the answer alone). True: numeric answers in the worked form "521 reversed is 125" (digits
    /// least-significant first, then the answer; <see cref="ReversedAnswer"/>). Off by default because in the six-round
    /// default run it raised the base (held-out 23.4% → 26.8%) but not the rounds' gain on fresh prompts (+3.8 points
    /// against +7.0 with the plain answers).</summary>
    public bool ReversedDigits { get; init; }

    /// <summary>Default false. True: products in the worked form "7 * 8 = 56, 7 * 3 + 5 = 26, so 266" (the multiplier
    /// times each digit, lowest first, plus the carry, then the product; <see cref="WorkedProduct"/>), which the checker
    /// verifies step by step; false = the product alone.</summary>
    public bool WorkedProducts { get; init; }

    /// <summary>Default false. True: the pretraining corpus gives every kind an equal share, repeating a kind with fewer
    /// distinct training prompts (708 products at difficulty 1 against a share of 2,400), so the base drills the times
    /// table as often as the other kinds; false = a plain draw of distinct prompts (products 6% of the corpus). Off because
    /// in the default six rounds (run 5190e472) the base fell to 5.4% held-out (12.8% without) and the rounds reached
    /// 34.0% on fresh prompts (44.6% without), products 5.7% → 6.9%.</summary>
    public bool BalancedKinds { get; init; }

    /// <summary>Default 1234. Seed of the task generator.</summary>
    public int Seed { get; init; } = 1234;
}
