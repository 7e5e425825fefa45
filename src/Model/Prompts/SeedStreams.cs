namespace PostTrain.Model.Prompts;

/// <summary>
/// The built-in generator's seed streams, one per task set, each derived from the run's task seed. They keep the
/// sets apart (a held-out draw never depends on how many sampling prompts a run asks for). The constants are the
/// ones every earlier run used: changing one changes every run's data and figures.
/// </summary>
public static class SeedStreams
{
    /// <summary>Held-out tasks (<see cref="PretrainCorpus.HeldOutTasksFor"/>).</summary>
    public static int HeldOut(int seed) => unchecked(seed * 31 + 0x4E1D);

    /// <summary>Sampling and annotation prompts, kind-balanced.</summary>
    public static int Sampling(int seed) => unchecked(seed * 17 + 0x5A3);

    /// <summary>Tasks whose reference answers the reward model learns.</summary>
    public static int References(int seed) => unchecked(seed * 29 + 0x2EF);

    /// <summary>The pretraining conversations when the corpus is kind-balanced (<see cref="PretrainCorpusOptions.BalancedKinds"/>);
    /// a plain corpus draws from the task seed itself.</summary>
    public static int Pretraining(int seed) => unchecked(seed * 13 + 0x7B1);

    /// <summary>The <paramref name="index"/>-th kind's own generator inside a balanced draw.</summary>
    public static int BalancedKind(int seed, int index) => unchecked(seed * 397 + index + 1);

    /// <summary>The all-kinds generator that tops up a balanced draw when a small kind runs out.</summary>
    public static int BalancedTopUp(int seed) => unchecked(seed * 397);
}
