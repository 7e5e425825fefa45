using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Pretrain.Corpus;

namespace PostTrain.Bench;

/// <summary>
/// Corpus preparation: near-duplicate detection quality of MinHash-LSH settings against edit rates (the measurement
/// behind <see cref="CorpusOptions"/>' defaults), then throughput (MB/s) and peak memory of <c>posttrain corpus prepare</c>
/// on generated corpora of two sizes: peak RSS should not grow with the text, only with the kept documents' index.
/// </summary>
internal static class CorpusBench
{
    public static JsonNode Run(string repo, bool quick, Table quality, Table speed)
    {
        var json = new JsonObject { ["dedup_quality"] = Quality(quick, quality) };
        var exe = Path.Combine(repo, "src", "Cli", "bin", "Release", "net10.0", "posttrain");
        if (!File.Exists(exe)) { json["throughput"] = $"skipped: {exe} not found (dotnet build src/Cli -c Release)"; return json; }
        var work = Directory.CreateTempSubdirectory("posttrain-bench-corpus-").FullName;
        try
        {
            var sizes = new JsonObject();
            foreach (var mb in quick ? new[] { 5, 20 } : [50, 200])
                sizes[$"{mb}MB"] = Throughput(exe, work, mb, speed);
            json["throughput"] = sizes;
        }
        finally { Directory.Delete(work, recursive: true); }
        return json;
    }

    /// <summary>Recall of near copies by word-edit rate and false merges among unrelated documents, per (shingle, bands × rows).</summary>
    private static JsonNode Quality(bool quick, Table table)
    {
        double[] rates = [0.01, 0.03, 0.05, 0.08, 0.12];
        var pairs = quick ? 100 : 300;
        var unrelated = quick ? 1000 : 3000;
        var d = new CorpusOptions();
        (int Shingle, int Bands)[] settings = [(d.ShingleSize, d.Bands), (d.ShingleSize, 16), (d.ShingleSize, 64), (3, d.Bands), (8, d.Bands)];
        var json = new JsonArray();
        foreach (var (shingle, bands) in settings)
        {
            var o = d with { ShingleSize = shingle, Bands = bands };
            var hasher = new MinHasher(o);
            uint[] Sig(string t) => hasher.Signature(DocumentFeatures.Measure(TextNormalizer.Normalize(t, o.Normalization), o).WordHashes);
            var text = new SyntheticText(seed: 101);
            var recall = new JsonObject();
            var cells = new List<object?> { shingle, $"{bands} x {o.Permutations / bands}" };
            foreach (var rate in rates)
            {
                var found = 0;
                for (var i = 0; i < pairs; i++)
                {
                    var original = text.Document(80 + i % 6 * 50);
                    var index = new LshIndex(o);
                    index.Add(Sig(original));
                    if (index.FindNearDuplicate(Sig(text.Edit(original, rate))) is not null) found++;
                }
                recall[rate.ToString("0.00", CultureInfo.InvariantCulture)] = (double)found / pairs;
                cells.Add($"{100.0 * found / pairs:F1}%");
            }
            var all = new LshIndex(o);
            var merges = 0;
            for (var i = 0; i < unrelated; i++)
            {
                var s = Sig(text.Document(60 + i % 7 * 40));
                if (all.FindNearDuplicate(s) is not null) merges++; else all.Add(s);
            }
            cells.Add($"{merges} / {unrelated}");
            table.Add([.. cells]);
            json.Add(new JsonObject { ["shingle"] = shingle, ["bands"] = bands, ["rows"] = o.Permutations / bands, ["threshold"] = o.Threshold, ["recall_by_edit_rate"] = recall, ["false_merges"] = merges, ["unrelated_documents"] = unrelated });
        }
        return json;
    }

    /// <summary>Writes a corpus of about <paramref name="mb"/> MB (10% exact copies, 10% near copies at 3% edits, 5% junk) and times the CLI on it.</summary>
    private static JsonNode Throughput(string exe, string work, int mb, Table table)
    {
        var input = Path.Combine(work, $"corpus-{mb}.jsonl");
        var text = new SyntheticText(seed: mb);
        var random = new Random(mb);
        var recent = new List<string>();
        int documents = 0, planted = 0;
        using (var writer = new StreamWriter(input))
        {
            while (writer.BaseStream.Length < mb * 1_000_000L)
            {
                var roll = random.NextDouble();
                string doc;
                if (roll < 0.1 && recent.Count > 0) { doc = recent[random.Next(recent.Count)]; planted++; }
                else if (roll < 0.2 && recent.Count > 0) { doc = text.Edit(recent[random.Next(recent.Count)], 0.03); planted++; }
                else if (roll < 0.25) { doc = string.Concat(Enumerable.Repeat(text.Document(12) + "\n", 20)); planted++; }
                else
                {
                    doc = text.Document(150 + random.Next(1500));
                    if (recent.Count < 256) recent.Add(doc); else recent[random.Next(recent.Count)] = doc;
                }
                writer.WriteLine(JsonSerializer.Serialize(new { id = $"d{documents++}", text = doc }));
            }
        }
        var bytes = new FileInfo(input).Length;
        var output = Path.Combine(work, $"out-{mb}");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "corpus", "prepare", input, "--out", output, "--json" }) psi.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peakKb = 0;
        while (!process.WaitForExit(100)) peakKb = Math.Max(peakKb, HighWaterKb(process.Id));
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"posttrain corpus prepare exited {process.ExitCode}: {stderr.Result}");
        var report = JsonNode.Parse(stdout.Result)!;
        var kept = report["kept"]!.GetValue<long>();
        table.Add($"{bytes / 1e6:F0} MB", documents, kept, planted, bytes / 1e6 / seconds, report["megabytesPerSecond"]!.GetValue<double>(), peakKb / 1024.0);
        return new JsonObject
        {
            ["input_bytes"] = bytes, ["documents"] = documents, ["planted_duplicates_and_junk"] = planted, ["kept"] = kept,
            ["wall_s"] = seconds, ["mb_per_s_wall"] = bytes / 1e6 / seconds, ["mb_per_s_preparer"] = report["megabytesPerSecond"]!.GetValue<double>(),
            ["peak_rss_mb_sampled_every_100ms"] = peakKb / 1024.0, ["filters"] = report["filters"]!.DeepClone(),
        };
    }

    private static long HighWaterKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        return 0;
    }
}
