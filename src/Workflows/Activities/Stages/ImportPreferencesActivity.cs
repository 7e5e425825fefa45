using PostTrain.Model.Data;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("ImportPreferences", Category = "Data",
    Description = "Validates a preference JSONL file (explicit prompt, HH-RLHF implicit prompt, or UltraFeedback-binarized) line by line and stores it in PostTrain's normalised form. One bad line rejects the whole file, with every error listed as FILE:LINE: field: reason.")]
public sealed class ImportPreferencesActivity : Activity<ImportPreferencesActivity.Inputs, ImportPreferencesActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Preference data already in the artifact store (e.g. from a PreferenceDataArrived trigger)")] public ArtifactRef? Data { get; init; }
        [Input("Or a path to a JSONL file on the worker's disk")] public string File { get; init; } = "";
        [Input("Longest templated sequence allowed, in characters/4 when no tokenizer is known")] public int MaxTokens { get; init; } = 4096;
    }

    public sealed class Outputs
    {
        [Output("Normalised preference pairs (JSONL)")] public ArtifactRef Preferences { get; init; }
        [Output("Pairs imported")] public int Pairs { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var path = input.Data is { } data ? StageSupport.PathOf(context, data, "preference data")
            : !string.IsNullOrWhiteSpace(input.File) ? input.File
            : throw new ArgumentException("ImportPreferences needs Data (an artifact) or File (a path); both are empty");
        var pairs = new PreferenceImporter(new PreferenceImportOptions { MaxTokens = input.MaxTokens }).Import(path);
        var file = Path.Combine(context.WorkDirectory, "preferences.jsonl");
        PreferenceDataset.Write(file, pairs);
        var artifact = StageSupport.StoreFile(context, file);
        context.RecordMetric(MetricKeys.Import.Pairs, pairs.Count);
        return Task.FromResult(new Outputs { Preferences = artifact, Pairs = pairs.Count });
    }
}
