using PostTrain.Model.Data;
using PostTrain.Model.Prompts;
using PostTrain.Pretrain;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("Pretrain", Category = "Training", Pool = "gpu",
    Description = "Pretrains a LLaMA-architecture base model (RMSNorm, RoPE, SwiGLU) on the embedded task corpus with AdamW, warmup + cosine/WSD, annealing and checkpoint averaging. Resumes from its own periodic checkpoints when re-run after a crash. Passes Base through when one is given.")]
public sealed class PretrainActivity : Activity<PretrainActivity.Inputs, PretrainActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Task set from GenerateTaskData (the corpus recipe and seed)", Required = true)] public ArtifactRef Tasks { get; init; }
        [Input("Network preset: tiny (tests), small (demo), medium (benchmarks)")] public string Preset { get; init; } = "small";
        [Input("Optimizer steps; 0 = the pretrainer's default for the preset")] public int Steps { get; init; }
        [Input("Sequences per optimizer step; 0 = the pretrainer's default")] public int BatchSize { get; init; }
        [Input("An existing base checkpoint to use instead of pretraining: a Hugging Face directory, sha256:… or a name from posttrain model import; empty = pretrain")] public string Base { get; init; } = "";
        [Input("Learning-rate schedule: cosine | wsd; empty = the pretrainer's default")] public string Schedule { get; init; } = "";
        [Input("wsd: fraction of the final steps that decay; 0 = the annealing fraction")] public double DecayFraction { get; init; }
        [Input("SFT JSONL mixed into the annealing (decay) phase (MiniCPM); empty = none")] public ArtifactRef? AnnealSft { get; init; }
        [Input("Times each AnnealSft conversation appears in the annealing mix; 0 = the pretrainer's default")] public int AnnealSftUpsample { get; init; }
        [Input("Width (hidden_size) instead of the preset's, the MLP scaled with it; 0 = the preset's (scaling-law grids)", Min = 0)] public int HiddenSize { get; init; }
        [Input("Decoder blocks instead of the preset's; 0 = the preset's", Min = 0)] public int Layers { get; init; }
    }

    public sealed class Outputs
    {
        [Output("The base policy checkpoint")] public ArtifactRef Checkpoint { get; init; }
        [Output("Held-out greedy exact-match accuracy of the base (null when passed through)")] public double? ExactMatch { get; init; }
        [Output("Held-out loss (nats/token)")] public double? HeldOutLoss { get; init; }
        [Output("Non-embedding parameters N (0 when passed through)")] public long Parameters { get; init; }
        [Output("Training tokens D: steps × batch × sequence length (0 when passed through)")] public long Tokens { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (!string.IsNullOrWhiteSpace(input.Base))
        {
            var given = new Models.ModelCatalog(context.Home, context.Artifacts).Resolve(input.Base, "base", Models.ModelCatalog.PolicyRole);
            return Task.FromResult(new Outputs { Checkpoint = given });
        }
        var tasks = TaskSet.Read(StageSupport.PathOf(context, input.Tasks, "task set"));
        var options = OptionsFor(input, context, tasks.Options);
        var result = new Pretrainer(options).Run(context.Progress, context.CancellationToken);
        var checkpoint = StageSupport.StoreDirectory(context, result.CheckpointDir);
        context.RegisterCheckpoint(checkpoint, "base", name: $"pretrained {input.Preset}");
        foreach (var (name, value) in new[] { ("train_loss", result.TrainLoss), ("heldout_loss", result.HeldOutLoss), ("unigram_entropy", result.UnigramEntropy), ("tokens_per_second", result.TokensPerSecond) })
            context.RecordMetric("pretrain/" + name, value);
        if (result.ExactMatch is { } em) context.RecordMetric("pretrain/exact_match", em);
        return Task.FromResult(new Outputs { Checkpoint = checkpoint, ExactMatch = result.ExactMatch, HeldOutLoss = result.HeldOutLoss, Parameters = result.NonEmbeddingParameters, Tokens = result.TrainingTokens });
    }

    /// <summary>The pretrainer's options for these inputs: 0 or empty inputs keep <see cref="PretrainOptions"/>' defaults.</summary>
    public static PretrainOptions OptionsFor(Inputs input, ActivityContext context, PretrainCorpusOptions recipe)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        var defaults = new PretrainOptions();
        var steps = input.Steps > 0 ? input.Steps : defaults.Steps;
        return defaults with
        {
            Preset = input.Preset,
            Steps = steps,
            // A short run keeps a tenth of its steps for warmup rather than failing on the default's 40.
            WarmupSteps = Math.Min(defaults.WarmupSteps, steps / 10),
            BatchSize = input.BatchSize > 0 ? input.BatchSize : defaults.BatchSize,
            // The task set's recipe, so the corpus and held-out split are the ones the later stages see.
            Seed = recipe.Seed,
            CorpusSize = recipe.Examples,
            TaskDifficulty = recipe.Difficulty,
            Device = context.Device,
            // The step's own work directory survives a crash of this process: a re-run resumes from the last periodic checkpoint.
            OutputDir = Path.Combine(context.Home, "work", "pretrain", context.RunId.ToString("N"), context.StepPath.Replace('/', '_')),
            Resume = true,
            Schedule = input.Schedule.Length > 0 ? input.Schedule : defaults.Schedule,
            DecayFraction = input.DecayFraction > 0 ? input.DecayFraction : defaults.DecayFraction,
            AnnealSftFiles = input.AnnealSft is { } sft ? [StageSupport.PathOf(context, sft, "AnnealSft")] : [],
            AnnealSftUpsample = input.AnnealSftUpsample > 0 ? input.AnnealSftUpsample : defaults.AnnealSftUpsample,
            HiddenSize = input.HiddenSize > 0 ? input.HiddenSize : defaults.HiddenSize,
            Layers = input.Layers > 0 ? input.Layers : defaults.Layers,
        };
    }
}
