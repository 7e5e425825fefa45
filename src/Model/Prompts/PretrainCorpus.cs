using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Prompts;

/// <summary>
/// The embedded pretraining data: verifiable tasks rendered through the chat template with their correct
/// answers, so a tiny model learns both the format and the skill, plus disjoint held-out and sampling sets.
/// </summary>
public sealed class PretrainCorpus
{
    private PretrainCorpus(PretrainCorpusOptions options, IReadOnlyList<VerifiableTask> train, IReadOnlyList<VerifiableTask> heldOut, IReadOnlyList<VerifiableTask> sampling)
    {
        Options = options;
        TrainTasks = train;
        HeldOutTasks = heldOut;
        SamplingTasks = sampling;
    }

    public PretrainCorpusOptions Options { get; }
    public IReadOnlyList<VerifiableTask> TrainTasks { get; }
    public IReadOnlyList<VerifiableTask> HeldOutTasks { get; }
    public IReadOnlyList<VerifiableTask> SamplingTasks { get; }

    public static PretrainCorpus Build(PretrainCorpusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Examples);
        ArgumentOutOfRangeException.ThrowIfNegative(options.HeldOutExamples);
        ArgumentOutOfRangeException.ThrowIfNegative(options.SamplingPrompts);
        var generator = new TaskGenerator(options.Seed, options.Difficulty, options.HeldOutFraction);
        var train = Formatted(options, options.BalancedKinds
            ? TaskGenerator.GenerateBalanced(SeedStreams.Pretraining(options.Seed), options.Difficulty, options.HeldOutFraction, options.Examples, TaskSplit.Train, repeat: true)
            : generator.Generate(options.Examples, TaskSplit.Train));
        // Kind-balanced and drawn apart from the pretraining prompts: a plain draw excluding them is mostly word
        // problems at difficulty 1 (the small kinds are used up by pretraining), and rejection-sampling SFT on such a
        // set shifts the policy away from the kinds the held-out set weighs equally.
        var sampling = Formatted(options, TaskGenerator.GenerateBalanced(SeedStreams.Sampling(options.Seed), options.Difficulty, options.HeldOutFraction,
            options.SamplingPrompts, TaskSplit.Train, train.Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal), reuseExcluded: true, repeat: true));
        return new PretrainCorpus(options, train, HeldOutTasksFor(options, options.HeldOutExamples), sampling);
    }

    /// <summary>
    /// The first <paramref name="count"/> held-out tasks of <paramref name="options"/>' seed; <see cref="HeldOutTasks"/> is
    /// the first <see cref="PretrainCorpusOptions.HeldOutExamples"/> of them. Their own generator: the held-out set must not
    /// move when a run asks for more examples or sampling prompts, or one checkpoint's exact match would differ between
    /// runs for no reason of its own; and draws past a run's own set are tasks that run never saw.
    /// </summary>
    public static IReadOnlyList<VerifiableTask> HeldOutTasksFor(PretrainCorpusOptions options, int count)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Formatted(options, new TaskGenerator(SeedStreams.HeldOut(options.Seed), options.Difficulty, options.HeldOutFraction).Generate(count, TaskSplit.HeldOut));
    }

    /// <summary>The tasks with their answers in the corpus's response format (<see cref="PretrainCorpusOptions.WorkedProducts"/>,
    /// <see cref="PretrainCorpusOptions.ReversedDigits"/>). The prompts, ids and splits do not depend on it, so the
    /// held-out set is the same tasks in any format.</summary>
    public static IReadOnlyList<VerifiableTask> Formatted(PretrainCorpusOptions options, IReadOnlyList<VerifiableTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.ReversedDigits && !options.WorkedProducts) return tasks;
        return tasks.Select(t => options.WorkedProducts && t.Kind == TaskKind.Multiplication ? WorkedProduct.Of(t)
            : options.ReversedDigits ? ReversedAnswer.Of(t) : t).ToList();
    }

    /// <summary>
    /// The chat prompt for a task: an optional system turn, then the task as the user turn; a user prompt given as a
    /// conversation keeps its turns (and its own system turn, which a round's system prompt does not replace).
    /// </summary>
    public static IReadOnlyList<ChatMessage> PromptFor(VerifiableTask task, string? systemPrompt = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.Messages is { Count: > 0 } messages)
            return systemPrompt is null || messages[0].Role == ChatTemplate.SystemRole ? messages : [ChatMessage.System(systemPrompt), .. messages];
        return systemPrompt is null ? [ChatMessage.User(task.Prompt)] : [ChatMessage.System(systemPrompt), ChatMessage.User(task.Prompt)];
    }

    public IReadOnlyList<ChatMessage> PromptFor(VerifiableTask task) => PromptFor(task, Options.SystemPrompt);

    /// <summary>Each training conversation as Llama 3 text with the special-token strings, for inspection and HF export.</summary>
    public IEnumerable<string> Texts() => TrainTasks.Select(t => ChatTemplate.Render([.. PromptFor(t), ChatMessage.Assistant(t.Answer)], addGenerationPrompt: false));

    /// <summary>Plain text (no special-token strings) to train the BPE on: role names, prompts and answers, as the template will encode them.</summary>
    public IEnumerable<string> TokenizerTrainingText()
    {
        foreach (var role in ChatTemplate.Roles) yield return role;
        if (Options.SystemPrompt is { } s) yield return s;
        foreach (var t in TrainTasks.Concat(SamplingTasks))
        {
            yield return "\n\n" + t.Prompt;
            yield return "\n\n" + t.Answer;
        }
    }

    /// <summary>Each training conversation as ids, closed by end_of_text so packed documents stay separable.</summary>
    public IReadOnlyList<int[]> Documents(ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return TrainTasks.Select(t => (int[])[.. template.EncodeExample(PromptFor(t), t.Answer).Ids, template.Tokenizer.EosId]).ToList();
    }

    /// <summary>Sampling prompts as chat messages, for the rejection-sampling stage.</summary>
    public IReadOnlyList<IReadOnlyList<ChatMessage>> SamplingPromptMessages() => SamplingTasks.Select(PromptFor).ToList();
}
