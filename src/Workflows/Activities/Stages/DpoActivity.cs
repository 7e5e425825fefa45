using PostTrain.Trainers.Dpo;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("Dpo", Category = "Training", Pool = "gpu",
    Description = "Direct preference optimisation (sigmoid, IPO, hinge or robust loss) on the round's pairs against cached reference log-probs, with Llama 3's changes: formatting tokens masked out and an NLL term on the chosen response (weight 0.2). Chosen and rejected go through one concatenated forward.")]
public sealed class DpoActivity : Activity<DpoActivity.Inputs, DpoActivity.Outputs>
{
    public sealed class Inputs
    {
        private static readonly DpoOptions Defaults = new();
        [Input("Policy to train (the round's SFT model)", Required = true)] public ArtifactRef Policy { get; init; }
        [Input("Reference policy; must be the one PrepareDpo used", Required = true)] public ArtifactRef Reference { get; init; }
        [Input("Dataset from PrepareDpo (pairs + cached reference log-probs)", Required = true)] public ArtifactRef Dataset { get; init; }
        [Input("Sampler of the round, recorded in lineage")] public ArtifactRef? Sampler { get; init; }
        [Input("Reward model of the round, recorded in lineage")] public ArtifactRef? RewardModel { get; init; }
        [Option(typeof(DpoOptions))] public double Beta { get; init; } = Defaults.Beta;
        [Option(typeof(DpoOptions))] public double LearningRate { get; init; } = Defaults.LearningRate;
        [Option(typeof(DpoOptions), nameof(DpoOptions.LossType))] public string Loss { get; init; } = Defaults.LossType.ToString();
        [Option(typeof(DpoOptions))] public double LabelSmoothing { get; init; } = Defaults.LabelSmoothing;
        [Option(typeof(DpoOptions))] public double NllWeight { get; init; } = Defaults.NllWeight;
        [Option(typeof(DpoOptions))] public bool MaskFormattingTokens { get; init; } = Defaults.MaskFormattingTokens;
        [Option(typeof(DpoOptions))] public int Epochs { get; init; } = Defaults.Epochs;
        [Option(typeof(DpoOptions))] public int BatchSize { get; init; } = Defaults.BatchSize;
    }

    public sealed class Outputs
    {
        [Output("Trained policy checkpoint")] public ArtifactRef Checkpoint { get; init; }
        [Output("rewards/accuracies at the end of training; null when the round had no pairs")] public double? RewardAccuracy { get; init; }
        [Output("rewards/margins at the end of training; null when the round had no pairs")] public double? RewardMargin { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (!Enum.TryParse<DpoLossType>(input.Loss, ignoreCase: true, out var loss))
            throw new ArgumentException($"Loss is '{input.Loss}', expected one of {string.Join(", ", Enum.GetNames<DpoLossType>())}");
        var datasetDir = StageSupport.PathOf(context, input.Dataset, "DPO dataset");
        var datasetPath = Path.Combine(datasetDir, PrepareDpoActivity.DatasetFile);
        if (new FileInfo(datasetPath).Length == 0)
        {
            // No pairs this round: nothing to prefer, so the policy stays as SFT left it (recorded, not hidden).
            context.RecordMetric(MetricKeys.Dpo.SkippedNoPairs, 1);
            return Task.FromResult(new Outputs { Checkpoint = input.Policy, RewardAccuracy = null, RewardMargin = null });
        }
        var trainer = new DpoTrainer(new DpoOptions
        {
            Beta = input.Beta,
            LearningRate = input.LearningRate,
            LossType = loss,
            LabelSmoothing = loss == DpoLossType.Cdpo && input.LabelSmoothing == 0 ? DpoOptions.CdpoLabelSmoothing : input.LabelSmoothing,
            NllWeight = input.NllWeight,
            MaskFormattingTokens = input.MaskFormattingTokens,
            Epochs = input.Epochs,
            BatchSize = input.BatchSize,
            Seed = StageSupport.Seed(context),
        });
        // The trainer saves straight into the store's staging directory: no second copy of the checkpoint.
        DpoResult? trained = null;
        var checkpoint = context.Artifacts.PutDirectory(dir => trained = trainer.Run(StageSupport.PathOf(context, input.Policy, "policy"),
            StageSupport.PathOf(context, input.Reference, "reference"), datasetPath, dir, StageSupport.Device(context), context.Progress, context.CancellationToken));
        var result = trained!;
        context.RegisterCheckpoint(checkpoint, "dpo", parent: input.Policy, sampler: input.Sampler, rewardModel: input.RewardModel,
            name: $"dpo β={input.Beta} lr={input.LearningRate}");
        foreach (var (name, value) in result.Metrics.Where(m => double.IsFinite(m.Value))) context.RecordMetric(MetricKeys.Dpo.Prefix + name, value);
        context.RecordMetric(MetricKeys.Dpo.ReferenceForwardPasses, result.ReferenceForwardPasses);
        return Task.FromResult(new Outputs
        {
            Checkpoint = checkpoint,
            RewardAccuracy = result.Metrics.TryGetValue(DpoTrainer.RewardsAccuracies, out var acc) && double.IsFinite(acc) ? acc : null,
            RewardMargin = result.Metrics.TryGetValue(DpoTrainer.RewardsMargins, out var margin) && double.IsFinite(margin) ? margin : null,
        });
    }
}
