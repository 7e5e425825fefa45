using PostTrain.Pretrain.Corpus;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("PrepareCorpus", Category = "Data",
    Description = "Prepares pretraining text: Unicode/whitespace normalisation, quality filters (length, symbol and digit ratios, repeated lines and n-grams, script), exact and MinHash-LSH near-duplicate removal. Outputs corpus.jsonl and report.json.")]
public sealed class PrepareCorpusActivity : Activity<PrepareCorpusActivity.Inputs, PrepareCorpusActivity.Outputs>
{
    public sealed class Inputs
    {
        [Input("Corpus files in the store (e.g. from ImportPath), read in this order", Required = true)] public ArtifactRef[] Data { get; init; } = [];
        [Input("Format of every file: jsonl ({\"id\",\"text\"} a line) or txt (blank-line-separated documents)")] public string Format { get; init; } = "jsonl";
        [Input("Words per MinHash shingle; 0 = CorpusOptions default")] public int ShingleSize { get; init; }
        [Input("MinHash permutations; 0 = CorpusOptions default")] public int Permutations { get; init; }
        [Input("LSH bands, a divisor of the permutations; 0 = CorpusOptions default")] public int Bands { get; init; }
        [Input("Estimated Jaccard similarity that makes a near duplicate; 0 = CorpusOptions default")] public double Threshold { get; init; }
        [Input("Shortest document kept, in words; -1 = CorpusOptions default")] public int MinWords { get; init; } = -1;
    }

    public sealed class Outputs
    {
        [Output("Directory with corpus.jsonl (kept documents) and report.json")] public ArtifactRef Corpus { get; init; }
        [Output("Documents read")] public long Documents { get; init; }
        [Output("Documents kept")] public long Kept { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        if (input.Data.Length == 0) throw new ArgumentException("Data: no corpus files, expected at least one", nameof(input));
        var d = new CorpusOptions();
        var options = d with
        {
            ShingleSize = input.ShingleSize > 0 ? input.ShingleSize : d.ShingleSize,
            Permutations = input.Permutations > 0 ? input.Permutations : d.Permutations,
            Bands = input.Bands > 0 ? input.Bands : d.Bands,
            Threshold = input.Threshold > 0 ? input.Threshold : d.Threshold,
            MinWords = input.MinWords >= 0 ? input.MinWords : d.MinWords,
        };
        var files = input.Data.Select((a, i) => StageSupport.PathOf(context, a, $"Data[{i}]")).ToList();
        CorpusReport? report = null;
        var corpus = context.Artifacts.PutDirectory(dir =>
            report = new CorpusPreparer(options).Prepare(files, dir, context.Progress, context.CancellationToken, input.Format));
        context.RecordMetric(MetricKeys.Corpus.Documents, report!.Documents);
        context.RecordMetric(MetricKeys.Corpus.Kept, report.Kept);
        foreach (var f in report.Filters) context.RecordMetric(MetricKeys.Corpus.Removed + f.Name, f.Removed);
        context.RecordMetric(MetricKeys.Corpus.MegabytesPerSecond, report.MegabytesPerSecond);
        return Task.FromResult(new Outputs { Corpus = corpus, Documents = report.Documents, Kept = report.Kept });
    }
}
