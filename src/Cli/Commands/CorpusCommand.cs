using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PostTrain.Core.Progress;
using PostTrain.Pretrain.Corpus;
using Spectre.Console;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain corpus prepare FILE… --out DIR [--json]</c>: normalises, filters and deduplicates pretraining text
/// (<see cref="CorpusPreparer"/>) into <c>DIR/corpus.jsonl</c> and <c>DIR/report.json</c>.
/// </summary>
public static class CorpusCommand
{
    public static Command Create()
    {
        var d = new CorpusOptions();
        var files = new Argument<string[]>("files") { Description = ".jsonl ({\"id\",\"text\"} a line) or .txt (blank-line-separated documents)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Output directory: corpus.jsonl and report.json", Required = true };
        var json = CliOptions.Json();
        var normalization = new Option<string>("--normalization") { Description = "Unicode form of the kept text: nfc | nfkc", DefaultValueFactory = _ => "nfc" };
        var shingle = new Option<int>("--shingle-size") { Description = "Words per MinHash shingle", DefaultValueFactory = _ => d.ShingleSize };
        var permutations = new Option<int>("--permutations") { Description = "MinHash permutations", DefaultValueFactory = _ => d.Permutations };
        var bands = new Option<int>("--bands") { Description = "LSH bands (a divisor of --permutations)", DefaultValueFactory = _ => d.Bands };
        var threshold = new Option<double>("--threshold") { Description = "Estimated Jaccard similarity that makes a near duplicate", DefaultValueFactory = _ => d.Threshold };
        var minWords = new Option<int>("--min-words") { Description = "Shortest document kept, in words", DefaultValueFactory = _ => d.MinWords };
        var scripts = new Option<string[]>("--scripts") { Description = $"Expected scripts: {string.Join(", ", Scripts.Names)}", DefaultValueFactory = _ => [.. d.Scripts], AllowMultipleArgumentsPerToken = true };
        var prepare = new Command("prepare", "Normalise, filter (length, symbols, digits, repetition, script) and deduplicate (exact, MinHash-LSH) a pretraining corpus")
        {
            files, output, json, normalization, shingle, permutations, bands, threshold, minWords, scripts,
        };
        prepare.SetAction((p, ct) =>
        {
            var form = p.GetValue(normalization)!.ToLowerInvariant() switch
            {
                "nfc" => NormalizationForm.FormC,
                "nfkc" => NormalizationForm.FormKC,
                var other => (NormalizationForm?)null,
            };
            if (form is null) return Task.FromResult(Output.Error($"--normalization is {p.GetValue(normalization)}, expected nfc or nfkc", CliApp.Usage));
            var options = d with
            {
                Normalization = form.Value,
                ShingleSize = p.GetValue(shingle),
                Permutations = p.GetValue(permutations),
                Bands = p.GetValue(bands),
                Threshold = p.GetValue(threshold),
                MinWords = p.GetValue(minWords),
                Scripts = p.GetValue(scripts)!,
            };
            return Task.FromResult(Run(p.GetValue(files)!, p.GetValue(output)!, options, p.GetValue(json), ct));
        });
        return new Command("corpus", "Pretraining corpora: prepare (normalise, filter, deduplicate)") { prepare };
    }

    private static int Run(string[] files, string outDir, CorpusOptions options, bool json, CancellationToken cancellationToken)
    {
        CorpusPreparer preparer;
        try { preparer = new CorpusPreparer(options); }
        catch (ArgumentException e) { return Output.Error(e.Message, CliApp.Usage); }
        try
        {
            var report = json ? preparer.Prepare(files, outDir, null, cancellationToken)
                : Output.Interactive ? WithBar(preparer, files, outDir, cancellationToken)
                : preparer.Prepare(files, outDir, new PlainProgress(), cancellationToken);
            if (json) Console.Out.WriteLine(JsonSerializer.Serialize(report, CorpusPreparer.ReportJson));
            else Print(report, outDir);
            return CliApp.Success;
        }
        catch (OperationCanceledException) { return Output.Error($"cancelled; {outDir} is unchanged"); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return Output.Error($"{e.Message}; {outDir} is unchanged");
        }
    }

    private static CorpusReport WithBar(CorpusPreparer preparer, string[] files, string outDir, CancellationToken cancellationToken)
    {
        CorpusReport? report = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("corpus", maxValue: Math.Max(1, files.Sum(f => File.Exists(f) ? new FileInfo(f).Length : 0)));
                report = preparer.Prepare(files, outDir, new Progress(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Step;
                    task.Description = Describe(p);
                }), cancellationToken);
            });
        return report!;
    }

    private static string Describe(StageProgress p) =>
        string.Create(CultureInfo.InvariantCulture, $"{p.Metrics["documents"]:F0} documents, {p.Metrics["kept"]:F0} kept, {p.Metrics["mb_per_s"]:F1} MB/s");

    private static void Print(CorpusReport report, string outDir)
    {
        var table = new Table().AddColumns("filter", "removed", "example");
        foreach (var f in report.Filters)
            table.AddRow(f.Name, f.Removed.ToString(CultureInfo.InvariantCulture), Output.Escape(f.Examples.FirstOrDefault() is { } e ? $"{e.Location}: {e.Reason}" : ""));
        AnsiConsole.Write(table);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"kept {report.Kept} of {report.Documents} documents ({report.InputBytes / 1e6:F1} MB in {report.Seconds:F1} s, {report.MegabytesPerSecond:F1} MB/s) -> {Path.Combine(outDir, report.Output)}"));
    }

    /// <summary>Reports on the preparing thread itself (no SynchronizationContext hop).</summary>
    private sealed class Progress(Action<StageProgress> report) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => report(value);
    }

    /// <summary>Plain lines for logs and pipes: one per tenth of the input.</summary>
    private sealed class PlainProgress : IProgress<StageProgress>
    {
        private int _tenth = -1;

        public void Report(StageProgress value)
        {
            var tenth = (int)(value.Fraction * 10);
            if (tenth == _tenth) return;
            _tenth = tenth;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{value.Fraction:P0} {Describe(value)}"));
        }
    }
}
