using PostTrain.Trainers.Sft;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("Sft", Category = "Training", Pool = "gpu",
    Description = "Supervised fine-tuning on the rejection-sampled examples: cross-entropy on response tokens only, optional sequence packing that never lets attention cross example boundaries, AdamW with warmup + cosine.")]
public sealed class SftActivity : Activity<SftActivity.Inputs, SftActivity.Outputs>
{
    public sealed class Inputs
    {
        private static readonly SftOptions Defaults = new();
        [Input("Policy to fine-tune (the round's sampler)", Required = true)] public ArtifactRef Policy { get; init; }
        [Input("SFT examples (JSONL)", Required = true)] public ArtifactRef Data { get; init; }
        [Input("Reward model that selected the data, recorded in lineage")] public ArtifactRef? RewardModel { get; init; }
        [Option(typeof(SftOptions))] public int Epochs { get; init; } = Defaults.Epochs;
        [Option(typeof(SftOptions))] public double LearningRate { get; init; } = Defaults.LearningRate;
        [Option(typeof(SftOptions))] public int BatchSize { get; init; } = Defaults.BatchSize;
        [Option(typeof(SftOptions))] public bool Packing { get; init; } = Defaults.Packing;
    }

    public sealed class Outputs
    {
        [Output("Fine-tuned policy checkpoint")] public ArtifactRef Checkpoint { get; init; }
        [Output("Final training loss; null when the round kept no data")] public double? Loss { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var policyDir = StageSupport.PathOf(context, input.Policy, "policy");
        var dataPath = StageSupport.PathOf(context, input.Data, "SFT data");
        if (new FileInfo(dataPath).Length == 0)
        {
            // Rejection sampling kept nothing this round (e.g. no correct answer under RequireCorrect): nothing to imitate.
            context.RecordMetric(MetricKeys.Sft.SkippedNoData, 1);
            return Task.FromResult(new Outputs { Checkpoint = input.Policy, Loss = null });
        }
        var trainer = new SftTrainer(new SftOptions
        {
            Epochs = input.Epochs,
            LearningRate = input.LearningRate,
            BatchSize = input.BatchSize,
            Packing = input.Packing,
            Seed = StageSupport.Seed(context),
        });
        // The trainer saves straight into the store's staging directory: no second copy of the checkpoint.
        SftResult? result = null;
        var checkpoint = context.Artifacts.PutDirectory(dir =>
            result = trainer.Run(policyDir, dataPath, null, dir, StageSupport.Device(context), context.Progress, context.CancellationToken));
        context.RegisterCheckpoint(checkpoint, "sft", parent: input.Policy, sampler: input.Policy, rewardModel: input.RewardModel, name: "sft");
        foreach (var (name, value) in result!.Metrics().Where(m => double.IsFinite(m.Value))) context.RecordMetric(MetricKeys.Sft.Prefix + name, value);
        return Task.FromResult(new Outputs { Checkpoint = checkpoint, Loss = result.TrainLoss });
    }
}
