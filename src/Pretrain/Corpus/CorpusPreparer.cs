using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Core.Files;
using PostTrain.Core.Progress;

namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// Prepares a pretraining corpus in one streaming pass: read (.jsonl/.txt) → normalise → quality filters → exact
/// dedup (SHA-256 of the normalised text) → near-dup dedup (MinHash + LSH) → <c>DIR/corpus.jsonl</c> and
/// <c>DIR/report.json</c>. Memory grows with the number of kept documents (about 950 bytes each: a hash, band keys
/// and a 16-bit signature), never with their text. Bad input stops the run with <c>FILE:LINE: reason</c> and leaves
/// DIR as it was. Progress: bytes read of all input, metrics "documents", "kept", "mb_per_s".
/// </summary>
public sealed class CorpusPreparer
{
    public const string Stage = "corpus";
    public const string CorpusFile = "corpus.jsonl";
    public const string ReportFile = "report.json";
    private const int ExampleChars = 200;

    public static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly CorpusOptions _options;
    private readonly ILogger _log;

    public CorpusPreparer(CorpusOptions options, ILogger<CorpusPreparer>? logger = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _log = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <param name="files">.jsonl and .txt files, read in this order (earlier documents win over their duplicates).</param>
    /// <param name="outDir">Receives corpus.jsonl and report.json; created if missing.</param>
    /// <param name="format">"jsonl" or "txt" for every file; null = by each file's extension.</param>
    /// <exception cref="InvalidDataException">An input file is missing, of another type, or has a bad line.</exception>
    public CorpusReport Prepare(IReadOnlyList<string> files, string outDir, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default, string? format = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        if (files.Count == 0) throw new ArgumentException("no input files", nameof(files));
        foreach (var file in files)
        {
            if (!File.Exists(file)) throw new InvalidDataException($"{file}: file not found");
            CorpusReader.FormatOf(file, format);
        }
        var o = _options;
        var clock = Stopwatch.StartNew();
        var totalBytes = files.Sum(f => new FileInfo(f).Length);
        var reader = new CorpusReader(o.MaxLineBytes);
        var scripts = o.Scripts.ToHashSet(StringComparer.Ordinal);
        var hasher = new MinHasher(o);
        var lsh = new LshIndex(o);
        var exact = new Dictionary<UInt128, int>();
        var removed = QualityFilters.All.ToDictionary(f => f, _ => (Count: 0L, Examples: new List<RemovedExample>()));
        long documents = 0, keptBytes = 0;
        var lastReport = TimeSpan.Zero;

        void Remove(string filter, SourceDocument doc, string reason, string text)
        {
            var entry = removed[filter];
            if (entry.Examples.Count < o.ExamplesPerFilter)
                entry.Examples.Add(new RemovedExample(doc.Id, doc.Location, reason, text.Length <= ExampleChars ? text : text[..ExampleChars] + "…"));
            removed[filter] = (entry.Count + 1, entry.Examples);
        }

        void Report(bool force)
        {
            if (progress is null || (!force && clock.Elapsed - lastReport < TimeSpan.FromMilliseconds(250))) return;
            lastReport = clock.Elapsed;
            progress.Report(new StageProgress(Stage, reader.BytesRead, totalBytes, "byte", new Dictionary<string, double>
            {
                ["documents"] = documents, ["kept"] = lsh.Count, ["mb_per_s"] = reader.BytesRead / 1e6 / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
            }));
        }

        Directory.CreateDirectory(outDir);
        var corpusPath = Path.Combine(outDir, CorpusFile);
        var tmp = Path.Combine(outDir, $".{CorpusFile}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                foreach (var file in files)
                    foreach (var doc in reader.Read(file, format))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        documents++;
                        var text = Normalize(doc);
                        var features = DocumentFeatures.Measure(text, o, scripts);
                        if (QualityFilters.Check(features, o) is { } failed) { Remove(failed.Filter, doc, failed.Reason, text); continue; }
                        var key = ExactKey(text);
                        if (exact.TryGetValue(key, out var same)) { Remove(QualityFilters.ExactDuplicate, doc, $"same text as line {same + 1} of {CorpusFile}", text); continue; }
                        var signature = hasher.Signature(features.WordHashes);
                        if (lsh.FindNearDuplicate(signature) is { } near)
                        {
                            Remove(QualityFilters.NearDuplicate, doc, FormattableString.Invariant($"estimated Jaccard {near.Similarity:F2} with line {near.Document + 1} of {CorpusFile}"), text);
                            continue;
                        }
                        exact[key] = lsh.Add(signature);
                        writer.Reset();
                        writer.WriteStartObject();
                        writer.WriteString("id", doc.Id);
                        writer.WriteString("text", text);
                        writer.WriteEndObject();
                        writer.Flush();
                        stream.WriteByte((byte)'\n');
                        keptBytes += Encoding.UTF8.GetByteCount(text);
                        Report(force: false);
                    }
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, corpusPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        Report(force: true);
        var report = new CorpusReport
        {
            Files = files.Select(Path.GetFullPath).ToList(),
            Output = CorpusFile,
            Documents = documents,
            Kept = lsh.Count,
            InputBytes = totalBytes,
            KeptTextBytes = keptBytes,
            Seconds = clock.Elapsed.TotalSeconds,
            Filters = QualityFilters.All.Select(f => new FilterReport(f, removed[f].Count, removed[f].Examples)).ToList(),
            Options = o,
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, ReportFile), JsonSerializer.Serialize(report, ReportJson));
        _log.LogInformation("corpus: kept {Kept} of {Documents} documents in {Seconds:F1} s", report.Kept, documents, report.Seconds);
        return report;
    }

    private string Normalize(SourceDocument doc)
    {
        try { return TextNormalizer.Normalize(doc.Text, _options.Normalization); }
        catch (ArgumentException e) { throw new InvalidDataException($"{doc.Location}: text: cannot be normalised: {e.Message}", e); }
    }

    private static UInt128 ExactKey(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(text.AsSpan()), digest);
        return MemoryMarshal.Read<UInt128>(digest);
    }
}
