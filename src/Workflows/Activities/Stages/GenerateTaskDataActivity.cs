using PostTrain.Model.Data;
using PostTrain.Model.Prompts;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("GenerateTaskData", Category = "Data",
    Description = "Makes the run's task set from a prompt source: the embedded verifiable tasks (arithmetic, sorting, word problems; the pretraining corpus recipe, held-out tasks, sampling, annotation and reference prompts), or the user's imported prompts (PromptSet) with the verifier that checks their answers.")]
public sealed class GenerateTaskDataActivity : Activity<GenerateTaskDataActivity.Inputs, GenerateTaskDataActivity.Outputs>
{
    private static readonly TaskSetOptions Defaults = new();

    public sealed class Inputs
    {
        [Input("Pretraining conversations to generate")] public int Examples { get; init; } = Defaults.Examples;
        [Input("Held-out tasks for exact-match evaluation; never trained on")] public int HeldOut { get; init; } = Defaults.HeldOut;
        [Input("Prompts sampled N times each round (rejection sampling)")] public int Prompts { get; init; } = Defaults.Prompts;
        [Input("Rounds that get their own fresh prompts (Prompts each); later rounds reuse them in turn")] public int Rounds { get; init; } = Defaults.Rounds;
        [Input("Prompts whose samples the verifier annotates into reward-model preference pairs")] public int AnnotationPrompts { get; init; } = Defaults.AnnotationPrompts;
        [Input("Tasks whose checker reference answers the reward model learns before its pairs; 0 = none. Drawn apart from every other prompt")] public int ReferencePrompts { get; init; } = Defaults.ReferencePrompts;
        [Input("Task difficulty 1..6: numbers have up to difficulty+1 digits. 1 suits the small preset's demo budget")] public int Difficulty { get; init; } = Defaults.Difficulty;
        [Input("Numeric answers in the worked form \"521 reversed is 125\" (digits least-significant first, then the answer); false = the answer alone")] public bool ReversedDigits { get; init; } = Defaults.ReversedDigits;
        [Option(typeof(TaskSetOptions))] public bool WorkedProducts { get; init; } = Defaults.WorkedProducts;
        [Option(typeof(TaskSetOptions))] public bool BalancedKinds { get; init; } = Defaults.BalancedKinds;
        [Input("Seed of the task generator")] public int Seed { get; init; } = Defaults.Seed;
        [Input("The user's imported prompts dataset (sha256:…, from `posttrain data import --kind prompts`); empty = the built-in tasks")] public string PromptSet { get; init; } = "";
        [Input("Verifier of the user's prompts: exact, numeric, choice, regex:PATTERN, none; empty = numeric when the rows have answers, else none")] public string Verifier { get; init; } = "";
    }

    public sealed class Outputs
    {
        [Output("Task-set directory: corpus options, held-out, sampling and annotation tasks, verifier")] public ArtifactRef Tasks { get; init; }
        [Output("Held-out tasks")] public int HeldOut { get; init; }
        [Output("Sampling prompts")] public int Prompts { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var options = new TaskSetOptions
        {
            Examples = input.Examples, HeldOut = input.HeldOut, Prompts = input.Prompts, Rounds = input.Rounds, AnnotationPrompts = input.AnnotationPrompts,
            ReferencePrompts = input.ReferencePrompts, Difficulty = input.Difficulty, Seed = input.Seed,
            ReversedDigits = input.ReversedDigits, WorkedProducts = input.WorkedProducts, BalancedKinds = input.BalancedKinds,
        };
        IPromptSource source = string.IsNullOrWhiteSpace(input.PromptSet)
            ? new BuiltInPromptSource()
            : PromptFileSource.Open(StageSupport.PathOf(context, ArtifactRef.Parse(input.PromptSet.Trim()), "prompts dataset"), input.Verifier, input.PromptSet.Trim());
        var set = source.CreateTaskSet(options);
        var artifact = context.Artifacts.PutDirectory(set.Write);
        context.RecordMetric(MetricKeys.Tasks.HeldOut, set.HeldOut.Count);
        context.RecordMetric(MetricKeys.Tasks.Prompts, set.Sampling.Count);
        context.RecordMetric(MetricKeys.Tasks.References, set.References.Count);
        return Task.FromResult(new Outputs { Tasks = artifact, HeldOut = set.HeldOut.Count, Prompts = set.Sampling.Count });
    }
}
