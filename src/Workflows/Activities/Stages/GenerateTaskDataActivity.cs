using PostTrain.Model.Data;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("GenerateTaskData", Category = "Data",
    Description = "Generates the embedded verifiable tasks (arithmetic, sorting, word problems) with an exact checker: the pretraining corpus recipe, held-out tasks, sampling prompts and annotation prompts.")]
public sealed class GenerateTaskDataActivity : Activity<GenerateTaskDataActivity.Inputs, GenerateTaskDataActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Pretraining conversations to generate")] public int Examples { get; init; } = 12000;
        [Input("Held-out tasks for exact-match evaluation; never trained on")] public int HeldOut { get; init; } = 200;
        [Input("Prompts sampled N times each round (rejection sampling)")] public int Prompts { get; init; } = 256;
        [Input("Rounds that get their own fresh prompts (Prompts each); later rounds reuse them in turn")] public int Rounds { get; init; } = 1;
        [Input("Prompts whose samples the checker annotates into reward-model preference pairs")] public int AnnotationPrompts { get; init; } = 384;
        [Input("Tasks whose checker reference answers the reward model learns before its pairs; 0 = none. Drawn apart from every other prompt")] public int ReferencePrompts { get; init; }
        [Input("Task difficulty 1..6: numbers have up to difficulty+1 digits. 1 suits the small preset's demo budget")] public int Difficulty { get; init; } = 1;
        [Input("Seed of the task generator")] public int Seed { get; init; } = 1234;
    }

    public sealed class Outputs
    {
        [Output("Task-set directory: corpus options, held-out, sampling and annotation tasks")] public ArtifactRef Tasks { get; init; }
        [Output("Held-out tasks")] public int HeldOut { get; init; }
        [Output("Sampling prompts")] public int Prompts { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.Rounds < 1) throw new ArgumentOutOfRangeException(nameof(input), $"Rounds is {input.Rounds}, expected >= 1");
        var sampling = input.Prompts * input.Rounds;
        // The same options the pretrainer uses (PretrainDocuments.FromTasks), so its held-out tasks are these.
        var options = new PretrainCorpusOptions
        {
            Examples = input.Examples,
            HeldOutExamples = Math.Max(input.HeldOut, 64),
            SamplingPrompts = sampling + input.AnnotationPrompts,
            Seed = input.Seed,
            Difficulty = input.Difficulty,
        };
        var corpus = PretrainCorpus.Build(options);
        if (corpus.SamplingTasks.Count < sampling + input.AnnotationPrompts)
            throw new InvalidOperationException($"task generator made {corpus.SamplingTasks.Count} sampling tasks, expected {sampling + input.AnnotationPrompts}; raise Difficulty or lower Prompts");
        var set = new TaskSet(options,
            corpus.HeldOutTasks.Take(input.HeldOut).ToList(),
            corpus.SamplingTasks.Take(sampling).ToList(),
            corpus.SamplingTasks.Skip(sampling).Take(input.AnnotationPrompts).ToList())
        {
            PromptsPerRound = input.Prompts,
            References = ReferenceTasks(corpus, input.ReferencePrompts),
        };
        var artifact = context.Artifacts.PutDirectory(set.Write);
        context.RecordMetric("tasks/heldout", set.HeldOut.Count);
        context.RecordMetric("tasks/prompts", set.Sampling.Count);
        context.RecordMetric("tasks/references", set.References.Count);
        return Task.FromResult(new Outputs { Tasks = artifact, HeldOut = set.HeldOut.Count, Prompts = set.Sampling.Count });
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
            return TaskGenerator.GenerateBalanced(unchecked(o.Seed * 29 + 0x2EF), o.Difficulty, o.HeldOutFraction, count, TaskSplit.Train, used);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"ReferencePrompts: {e.Message}", e);
        }
    }
}
