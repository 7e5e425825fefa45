using System.Globalization;
using PostTrain.Model.Data;
using PostTrain.Sampling;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("AnnotatePreferences", Category = "Data",
    Description = "Samples N responses per annotation prompt from a policy and lets the exact checker play Llama 3's human annotator: a correct response is preferred over a wrong one. Prompts whose samples are all right or all wrong get an edited response (the reference answer, or a minimally wrong one), as annotators edit responses. Also writes the reference answers of the task set's reference prompts, which the reward model learns first.")]
public sealed class AnnotatePreferencesActivity : Activity<AnnotatePreferencesActivity.Inputs, AnnotatePreferencesActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Policy whose samples are annotated", Required = true)] public ArtifactRef Policy { get; init; }
        [Input("Task set from GenerateTaskData", Required = true)] public ArtifactRef Tasks { get; init; }
        [Input("Responses sampled per prompt (8 with up to 4 pairs each gives the reward model 1.6× the pairs of 4 and 2)")] public int SamplesPerPrompt { get; init; } = 8;
        [Input("Sampling temperature")] public double Temperature { get; init; } = 1.0;
        [Input("Tokens generated at most per response")] public int MaxNewTokens { get; init; } = 24;
        [Input("Pairs kept per prompt at most")] public int MaxPairsPerPrompt { get; init; } = 4;
    }

    public sealed class Outputs
    {
        [Output("Preference pairs (JSONL)")] public ArtifactRef Preferences { get; init; }
        [Output("The checker's reference answers to the task set's reference prompts (SFT JSONL; empty when it has none), for the reward model")] public ArtifactRef References { get; init; }
        [Output("Pairs made")] public int Pairs { get; init; }
        [Output("Fraction of sampled responses the checker found correct")] public double SampleAccuracy { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var tasks = TaskSet.Read(StageSupport.PathOf(context, input.Tasks, "task set"));
        if (tasks.Annotation.Count == 0) throw new ArgumentException($"task set {input.Tasks} has no annotation prompts; set AnnotationPrompts > 0 in GenerateTaskData");
        var sampler = Sampler.FromCheckpoint(StageSupport.PathOf(context, input.Policy, "policy"), new SamplingOptions
        {
            SamplesPerPrompt = input.SamplesPerPrompt,
            Temperature = input.Temperature,
            MaxNewTokens = input.MaxNewTokens,
            Seed = context.Seed,
        }, StageSupport.Device(context));
        var result = sampler.Sample(tasks.Annotation.Select(t => StageSupport.Prompt(t, null)).ToList(), context.Progress, context.CancellationToken);
        var byPrompt = result.Responses.GroupBy(r => r.PromptId).ToDictionary(g => g.Key, g => g.OrderBy(r => r.SampleIndex).Select(r => r.Response).ToList());
        var annotator = new CheckerAnnotator(input.MaxPairsPerPrompt);
        var rng = new Random(StageSupport.Seed(context));
        var pairs = new List<PreferencePair>();
        int correct = 0, total = 0, edited = 0;
        foreach (var task in tasks.Annotation)
        {
            var responses = byPrompt.GetValueOrDefault(task.Id) ?? [];
            var annotation = annotator.Annotate(task, responses);
            correct += annotation.CorrectCount;
            total += responses.Count;
            if (annotation.Pairs.Count > 0)
            {
                pairs.AddRange(annotation.Pairs);
                continue;
            }
            // No contrast among the samples: the annotator edits one, keeping the preference checkable.
            var prompt = PretrainCorpus.PromptFor(task);
            var (chosen, rejected) = annotation.CorrectCount > 0
                ? (annotation.CorrectResponses[0], WrongAnswer(task, rng))
                : (task.Answer, responses.FirstOrDefault(r => !string.IsNullOrWhiteSpace(r)) ?? WrongAnswer(task, rng));
            if (chosen == rejected) continue;
            edited++;
            pairs.Add(new PreferencePair(prompt, chosen, rejected)
            {
                ScoreChosen = 1,
                ScoreRejected = 0,
                Source = new Dictionary<string, string> { ["annotator"] = "checker-edit", ["task_id"] = task.Id, ["task_kind"] = task.Kind.ToString() },
            });
        }
        var file = Path.Combine(context.WorkDirectory, "preferences.jsonl");
        PreferenceDataset.Write(file, pairs);
        var artifact = StageSupport.StoreFile(context, file);
        // The answer key, written as an annotator writes a reference response: dense labels, no sampling needed.
        var referencesFile = Path.Combine(context.WorkDirectory, "references.jsonl");
        SftDataset.Write(referencesFile, tasks.References.Select(t => new SftExample(PretrainCorpus.PromptFor(t), t.Answer)
        {
            Source = new Dictionary<string, string> { ["annotator"] = "checker-reference", ["task_id"] = t.Id, ["task_kind"] = t.Kind.ToString() },
        }));
        var references = StageSupport.StoreFile(context, referencesFile);
        var accuracy = total > 0 ? (double)correct / total : 0;
        context.RecordMetric("annotate/pairs", pairs.Count);
        context.RecordMetric("annotate/edited_pairs", edited);
        context.RecordMetric("annotate/sample_accuracy", accuracy);
        context.RecordMetric("annotate/references", tasks.References.Count);
        return Task.FromResult(new Outputs { Preferences = artifact, References = references, Pairs = pairs.Count, SampleAccuracy = accuracy });
    }

    /// <summary>A near miss: the answer off by a little, or a list with two neighbours swapped.</summary>
    internal static string WrongAnswer(VerifiableTask task, Random rng)
    {
        if (long.TryParse(task.Answer, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            var delta = rng.Next(1, 11) * (rng.Next(2) == 0 ? -1 : 1);
            return (n + delta).ToString(CultureInfo.InvariantCulture);
        }
        var items = task.Answer.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i + 1 < items.Length; i++)
        {
            if (items[i] == items[i + 1]) continue;
            (items[i], items[i + 1]) = (items[i + 1], items[i]);
            return string.Join(", ", items);
        }
        return task.Answer + "0";
    }
}
