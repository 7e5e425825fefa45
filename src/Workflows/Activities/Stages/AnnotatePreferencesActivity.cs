using PostTrain.Model.Prompts;
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
        private static readonly SamplingOptions Defaults = new();
        [Input("Policy whose samples are annotated", Required = true)] public ArtifactRef Policy { get; init; }
        [Input("Task set from GenerateTaskData", Required = true)] public ArtifactRef Tasks { get; init; }
        [Option(typeof(SamplingOptions))] public int SamplesPerPrompt { get; init; } = Defaults.SamplesPerPrompt;
        [Option(typeof(SamplingOptions))] public double Temperature { get; init; } = Defaults.Temperature;
        [Option(typeof(SamplingOptions))] public int MaxNewTokens { get; init; } = Defaults.MaxNewTokens;
        [Input("Pairs kept per prompt at most")] public int MaxPairsPerPrompt { get; init; } = 4;
    }

    public sealed class Outputs
    {
        [Output("Preference pairs (JSONL)")] public ArtifactRef Preferences { get; init; }
        [Output("The checker's reference answers to the task set's reference prompts (SFT JSONL; empty when it has none), for the reward model")] public ArtifactRef References { get; init; }
        [Output("Pairs made")] public int Pairs { get; init; }
        [Output("Fraction of sampled responses the verifier found correct")] public double SampleAccuracy { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var tasks = TaskSet.Read(StageSupport.PathOf(context, input.Tasks, "task set"));
        var verifier = tasks.CreateVerifier();
        // A verifier that judges nothing (none) annotates nothing: the reward model learns from imported pairs alone.
        if (tasks.Annotation.Count == 0 && verifier is not NoVerifier)
            throw new ArgumentException($"task set {input.Tasks} has no annotation prompts; set AnnotationPrompts > 0 in GenerateTaskData");
        var byPrompt = tasks.Annotation.Count == 0 ? new Dictionary<string, List<string>>() : Sampler.FromCheckpoint(StageSupport.PathOf(context, input.Policy, "policy"), new SamplingOptions
        {
            SamplesPerPrompt = input.SamplesPerPrompt,
            Temperature = input.Temperature,
            MaxNewTokens = input.MaxNewTokens,
            Seed = context.Seed,
        }, StageSupport.Device(context)).Sample(tasks.Annotation.Select(t => StageSupport.Prompt(t, null)).ToList(), context.Progress, context.CancellationToken)
            .Responses.GroupBy(r => r.PromptId).ToDictionary(g => g.Key, g => g.OrderBy(r => r.SampleIndex).Select(r => r.Response).ToList());
        var batch = new CheckerAnnotator(input.MaxPairsPerPrompt, verifier: verifier).AnnotateAll(tasks.Annotation, byPrompt, new Random(StageSupport.Seed(context)));
        var pairs = batch.Pairs;
        var file = Path.Combine(context.WorkDirectory, "preferences.jsonl");
        PreferenceDataset.Write(file, pairs);
        var artifact = StageSupport.StoreFile(context, file);
        // The answer key, written as an annotator writes a reference response: dense labels, no sampling needed.
        var referencesFile = Path.Combine(context.WorkDirectory, "references.jsonl");
        SftDataset.Write(referencesFile, tasks.References.Select(t => new SftExample(PretrainCorpus.PromptFor(t), t.Answer)
        {
            Source = new Dictionary<string, string> { ["annotator"] = "checker-reference", ["task_id"] = t.Id, ["task_kind"] = t.KindName },
        }));
        var references = StageSupport.StoreFile(context, referencesFile);
        var accuracy = batch.SampleAccuracy;
        context.RecordMetric(MetricKeys.Annotate.Pairs, pairs.Count);
        context.RecordMetric(MetricKeys.Annotate.EditedPairs, batch.Edited);
        context.RecordMetric(MetricKeys.Annotate.SampleAccuracy, accuracy);
        context.RecordMetric(MetricKeys.Annotate.References, tasks.References.Count);
        return Task.FromResult(new Outputs { Preferences = artifact, References = references, Pairs = pairs.Count, SampleAccuracy = accuracy });
    }
}
