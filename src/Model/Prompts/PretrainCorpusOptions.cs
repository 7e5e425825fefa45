namespace PostTrain.Model.Prompts;

/// <summary>Sizes of the embedded task corpus. Every set is drawn from one seeded generator, so a seed fixes all of them.</summary>
public sealed record PretrainCorpusOptions
{
    /// <summary>Default 4000. Train-split tasks rendered as full conversations for pretraining.</summary>
    public int Examples { get; init; } = 4000;

    /// <summary>Default 200. Held-out tasks for evaluation; never in any other set (split by prompt hash).</summary>
    public int HeldOutExamples { get; init; } = 200;

    /// <summary>Default 500. Train-split prompts for rejection sampling, disjoint from <see cref="Examples"/> so the
    /// policy is sampled on prompts it did not memorise in pretraining.</summary>
    public int SamplingPrompts { get; init; } = 500;

    /// <summary>Default 1234.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Default 2 (up to three-digit numbers). See <see cref="TaskGenerator"/>.</summary>
    public int Difficulty { get; init; } = 2;

    /// <summary>Default 0.1. Share of prompt space reserved for held-out evaluation.</summary>
    public double HeldOutFraction { get; init; } = 0.1;

    /// <summary>Default false: the answer alone ("125"), as task sets written before the worked format read. True: numeric
    /// answers in the worked form "521 reversed is 125" (<see cref="ReversedAnswer"/>). Omitted from JSON when false, so
    /// plain task sets keep their bytes.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool ReversedDigits { get; init; }

    /// <summary>Default false: products answered alone, as task sets written before the worked product read. True: products
    /// in the worked form "7 * 8 = 56, 7 * 3 + 5 = 26, so 266" (<see cref="WorkedProduct"/>), whatever
    /// <see cref="ReversedDigits"/> says. Omitted from JSON when false, so older task sets keep their bytes.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool WorkedProducts { get; init; }

    /// <summary>Default false: the training conversations are a plain draw of distinct prompts, as task sets written before
    /// read. True: every kind gets an equal share, and a kind with fewer distinct training prompts than its share repeats
    /// them (<see cref="TaskGenerator.GenerateBalanced"/>). Omitted from JSON when false, so older task sets keep their bytes.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool BalancedKinds { get; init; }

    /// <summary>Default null (no system turn).</summary>
    public string? SystemPrompt { get; init; }
}
