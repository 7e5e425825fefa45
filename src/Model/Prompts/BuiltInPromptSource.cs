namespace PostTrain.Model.Prompts;

/// <summary>
/// The embedded verifiable tasks (arithmetic, sorting, word problems) checked by <see cref="TaskChecker"/>: the
/// pretraining corpus recipe, held-out tasks, each round's sampling prompts, annotation prompts and reference tasks,
/// each from its own seed stream (<see cref="SeedStreams"/>).
/// </summary>
public sealed class BuiltInPromptSource : IPromptSource
{
    public TaskSet CreateTaskSet(TaskSetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Rounds < 1) throw new ArgumentOutOfRangeException(nameof(options), $"Rounds is {options.Rounds}, expected >= 1");
        var sampling = options.Prompts * options.Rounds;
        // The same options the pretrainer uses (PretrainDocuments.FromTasks), so its held-out tasks are these.
        var corpusOptions = CorpusOptions(options, sampling + options.AnnotationPrompts);
        var corpus = PretrainCorpus.Build(corpusOptions);
        if (corpus.SamplingTasks.Count < sampling + options.AnnotationPrompts)
            throw new InvalidOperationException($"task generator made {corpus.SamplingTasks.Count} sampling tasks, expected {sampling + options.AnnotationPrompts}; raise Difficulty or lower Prompts");
        return new TaskSet(corpusOptions,
            corpus.HeldOutTasks.Take(options.HeldOut).ToList(),
            corpus.SamplingTasks.Take(sampling).ToList(),
            corpus.SamplingTasks.Skip(sampling).Take(options.AnnotationPrompts).ToList())
        {
            PromptsPerRound = options.Prompts,
            References = ReferenceTasks(corpus, options.ReferencePrompts),
        };
    }

    /// <summary>The pretraining corpus recipe of a task set: the built-in corpus, whatever the run samples from.</summary>
    public static PretrainCorpusOptions CorpusOptions(TaskSetOptions options, int samplingPrompts)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new PretrainCorpusOptions
        {
            Examples = options.Examples,
            HeldOutExamples = Math.Max(options.HeldOut, 64),
            SamplingPrompts = samplingPrompts,
            Seed = options.Seed,
            Difficulty = options.Difficulty,
            ReversedDigits = options.ReversedDigits,
            WorkedProducts = options.WorkedProducts,
            BalancedKinds = options.BalancedKinds,
        };
    }

    /// <summary>
    /// <paramref name="count"/> kind-balanced training-split tasks that are none of the corpus's prompts (pretraining,
    /// sampling, annotation). Held-out tasks are another split already.
    /// </summary>
    /// <exception cref="InvalidOperationException">The task space at the corpus's difficulty has too few prompts left.</exception>
    public static IReadOnlyList<VerifiableTask> ReferenceTasks(PretrainCorpus corpus, int count)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "ReferencePrompts must be >= 0");
        if (count == 0) return [];
        var used = corpus.TrainTasks.Concat(corpus.SamplingTasks).Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        var o = corpus.Options;
        try
        {
            return PretrainCorpus.Formatted(o, TaskGenerator.GenerateBalanced(SeedStreams.References(o.Seed), o.Difficulty, o.HeldOutFraction, count, TaskSplit.Train, used));
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"ReferencePrompts: {e.Message}", e);
        }
    }
}
