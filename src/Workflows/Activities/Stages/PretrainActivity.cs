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
        var options = PretrainStepOptions.For(input, context, tasks.Options);
        var result = new Pretrainer(options).Run(context.Progress, context.CancellationToken);
        var checkpoint = StageSupport.StoreDirectory(context, result.CheckpointDir);
        context.RegisterCheckpoint(checkpoint, "base", name: $"pretrained {input.Preset}");
        context.RecordMetric(MetricKeys.Pretrain.TrainLoss, result.TrainLoss);
        context.RecordMetric(MetricKeys.Pretrain.HeldOutLoss, result.HeldOutLoss);
        context.RecordMetric(MetricKeys.Pretrain.UnigramEntropy, result.UnigramEntropy);
        context.RecordMetric(MetricKeys.Pretrain.TokensPerSecond, result.TokensPerSecond);
        if (result.ExactMatch is { } em) context.RecordMetric(MetricKeys.Pretrain.ExactMatch, em);
        return Task.FromResult(new Outputs { Checkpoint = checkpoint, ExactMatch = result.ExactMatch, HeldOutLoss = result.HeldOutLoss, Parameters = result.NonEmbeddingParameters, Tokens = result.TrainingTokens });
    }
}
