using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Dpo;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("PrepareDpo", Category = "Training", Pool = "gpu",
    Description = "Computes the reference model's log-probs of every chosen and rejected response once and stores them with the dataset, so every DPO variant and epoch reuses them instead of running the reference each step.")]
public sealed class PrepareDpoActivity : Activity<PrepareDpoActivity.Inputs, PrepareDpoActivity.Outputs>
{
    public const string DatasetFile = "preferences.jsonl";

    public sealed class Inputs
    {
        private static readonly DpoOptions Defaults = new();
        [Input("Preference pairs (JSONL)", Required = true)] public ArtifactRef Preferences { get; init; }
        [Input("Reference policy (Llama 3: the SFT model of the round)", Required = true)] public ArtifactRef Reference { get; init; }
        [Option(typeof(DpoOptions))] public bool MaskFormattingTokens { get; init; } = Defaults.MaskFormattingTokens;
        [Option(typeof(DpoOptions))] public int BatchSize { get; init; } = Defaults.BatchSize;
    }

    public sealed class Outputs
    {
        [Output("Dataset directory: the pairs and their cached reference log-probs")] public ArtifactRef Dataset { get; init; }
        [Output("Pairs")] public int Pairs { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var source = StageSupport.PathOf(context, input.Preferences, "preferences");
        var referenceDir = StageSupport.PathOf(context, input.Reference, "reference policy");
        var dir = Path.Combine(context.WorkDirectory, "dpo-dataset");
        Directory.CreateDirectory(dir);
        var datasetPath = Path.Combine(dir, DatasetFile);
        File.Copy(source, datasetPath, overwrite: true);
        if (new FileInfo(datasetPath).Length == 0)
        {
            // Rejection sampling kept no pair this round (every best-vs-worst gap under the margin): DPO will pass the SFT model through.
            context.Logger.LogWarning("preferences {Preferences} hold no pairs; this round's DPO variants will keep the SFT policy", input.Preferences);
            context.RecordMetric(MetricKeys.Dpo.Pairs, 0);
            return Task.FromResult(new Outputs { Dataset = StageSupport.StoreDirectory(context, dir), Pairs = 0 });
        }
        // Only the tokenizer and config are needed to template the pairs; the reference weights load only on a cache miss.
        var tokenizer = TokenizerLoader.Load(referenceDir) ?? throw new InvalidDataException($"{referenceDir}: the reference checkpoint has no tokenizer");
        var config = LlamaConfig.Load(Path.Combine(referenceDir, Checkpoint.ConfigFile));
        var pairs = DpoTrainer.Encode(new ChatTemplate(tokenizer), PreferenceDataset.Read(datasetPath));
        new DpoTrainer(new DpoOptions { MaskFormattingTokens = input.MaskFormattingTokens, BatchSize = input.BatchSize })
            .PrepareReference(referenceDir, datasetPath, pairs, config, tokenizer.PadId, StageSupport.Device(context), context.Progress, context.CancellationToken);
        context.RecordMetric(MetricKeys.Dpo.Pairs, pairs.Count);
        return Task.FromResult(new Outputs { Dataset = StageSupport.StoreDirectory(context, dir), Pairs = pairs.Count });
    }
}
