using System.Text;
using System.Text.Json;
using PostTrain.Core.Progress;
using PostTrain.Pretrain.Corpus;

namespace PostTrain.Pretrain.Tests.Corpus;

public sealed class CorpusPreparerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "posttrain-corpus-" + Guid.NewGuid().ToString("N"));

    public CorpusPreparerTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string WriteJsonl(string name, IEnumerable<(string Id, string Text)> docs)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, docs.Select(d => JsonSerializer.Serialize(new { id = d.Id, text = d.Text })));
        return path;
    }

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private sealed class Collect : IProgress<StageProgress>
    {
        public List<StageProgress> Reports { get; } = [];
        public void Report(StageProgress value) => Reports.Add(value);
    }

    [Fact]
    public void Prepare_PlantedCorpus_RemovesDuplicatesAndJunkKeepsEveryUniqueDocument()
    {
        var text = new SyntheticText(seed: 5);
        var unique = Enumerable.Range(0, 300).Select(i => ($"u{i}", text.Document(60 + i % 9 * 25))).ToList();
        var exact = unique.Take(25).Select((d, i) => ($"exact{i}", "  " + d.Item2.Replace("\n\n", "\r\n \r\n\r\n", StringComparison.Ordinal).Replace(" ", "  ", StringComparison.Ordinal) + "\n")).ToList();
        var near = unique.Skip(25).Take(25).Select((d, i) => ($"near{i}", text.Edit(d.Item2, 0.03))).ToList();
        var junk = new List<(string, string)>
        {
            ("short", "Too short to keep."),
            ("digits", string.Join(" ", Enumerable.Range(0, 60).Select(i => (i * 7919).ToString(System.Globalization.CultureInfo.InvariantCulture)))),
            ("symbols", text.Document(30) + " " + string.Concat(Enumerable.Repeat("{{#}} <|> ~~~ ", 30))),
            ("lines", string.Join("\n", Enumerable.Repeat("Click here to subscribe to our newsletter now", 12))),
            ("ngrams", text.Document(30) + " " + string.Concat(Enumerable.Repeat("best price free shipping today ", 15))),
            ("greek", "Αυτό είναι ένα ελληνικό κείμενο που δεν πρέπει να περάσει τον έλεγχο χαρακτήρων. Η δεύτερη πρόταση μιλά για τον καιρό " +
                "στην πόλη, όπου χθες έβρεχε πολύ και φυσούσε κρύος άνεμος από τα βουνά."),
        };
        var first = WriteJsonl("a.jsonl", unique.Take(150).Concat(exact).Concat(junk.Take(3)));
        var second = Path.Combine(_dir, "b.txt");
        // .txt: documents are blank-line-separated blocks, so paragraphs become documents of their own there; put
        // single-paragraph texts in it.
        File.WriteAllText(second, string.Join("\n\n", near.Select(d => d.Item2.Replace("\n\n", " ", StringComparison.Ordinal))));
        var third = WriteJsonl("c.jsonl", unique.Skip(150).Concat(junk.Skip(3)));
        var progress = new Collect();

        var report = new CorpusPreparer(new CorpusOptions()).Prepare([first, second, third], Path.Combine(_dir, "out"), progress);

        var kept = File.ReadLines(Path.Combine(_dir, "out", CorpusPreparer.CorpusFile)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).ToList();
        Assert.Equal(unique.Select(d => d.Item1).OrderBy(x => x, StringComparer.Ordinal), kept.OrderBy(x => x, StringComparer.Ordinal));
        long Removed(string f) => report.Filters.Single(r => r.Name == f).Removed;
        Assert.Equal(25, Removed(QualityFilters.ExactDuplicate));
        Assert.Equal(25, Removed(QualityFilters.NearDuplicate));
        Assert.Equal(1, Removed(QualityFilters.Length));
        Assert.Equal(1, Removed(QualityFilters.DigitRatio));
        Assert.Equal(1, Removed(QualityFilters.SymbolRatio));
        Assert.Equal(1, Removed(QualityFilters.RepeatedLines));
        Assert.Equal(1, Removed(QualityFilters.RepeatedNgrams));
        Assert.Equal(1, Removed(QualityFilters.Language));
        Assert.Equal(unique.Count + exact.Count + near.Count + junk.Count, report.Documents);

        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "out", CorpusPreparer.ReportFile))).RootElement;
        Assert.Equal(300, json.GetProperty("kept").GetInt32());
        var exactReport = json.GetProperty("filters").EnumerateArray().Single(f => f.GetProperty("name").GetString() == QualityFilters.ExactDuplicate);
        Assert.Equal(3, exactReport.GetProperty("examples").GetArrayLength());
        Assert.StartsWith("exact0", exactReport.GetProperty("examples")[0].GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(new FileInfo(first).Length + new FileInfo(second).Length + new FileInfo(third).Length, progress.Reports[^1].Total);
        Assert.Equal(progress.Reports[^1].Total, progress.Reports[^1].Step);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "out"), "*.tmp"));
    }

    [Fact]
    public void Prepare_KeptText_IsNormalisedAndIdsKept()
    {
        var doc = new SyntheticText(seed: 6).Document(40);
        var path = WriteJsonl("n.jsonl", [("doc-1", "  " + doc.Replace(" ", " \t ", StringComparison.Ordinal) + "\r\n\r\n\r\n")]);
        new CorpusPreparer(new CorpusOptions()).Prepare([path], Path.Combine(_dir, "out"));
        var line = JsonDocument.Parse(File.ReadAllLines(Path.Combine(_dir, "out", CorpusPreparer.CorpusFile)).Single()).RootElement;
        Assert.Equal("doc-1", line.GetProperty("id").GetString());
        Assert.Equal(doc, line.GetProperty("text").GetString());
    }

    public static TheoryData<string, byte[], string> BadInputs => new()
    {
        { "bad-utf8.jsonl", [.. "{\"text\":\"ok ok\"}\n{\"text\":\"bad "u8, 0xC3, 0x28, .. "\"}\n"u8], ":2: not valid UTF-8" },
        { "utf16.jsonl", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("{\"text\":\"a\"}\n")).ToArray(), ":1: not valid UTF-8" },
        { "utf16-nobom.txt", Encoding.Unicode.GetBytes("hello\n"), ":1: NUL byte" },
        { "bom.jsonl", [.. Encoding.UTF8.GetPreamble(), .. "{\"text\":\"a\"}\n"u8], ":1: starts with a byte order mark" },
        { "malformed.jsonl", "{\"text\":\"fine\"}\n\n{\"text\": \"cut\n"u8.ToArray(), ":3: not valid JSON" },
        { "missing.jsonl", "{\"id\":\"a\",\"body\":\"x\"}\n"u8.ToArray(), ":1: text: missing field" },
        { "number.jsonl", "{\"text\":5}\n"u8.ToArray(), ":1: text: is Number, expected a string" },
        { "surrogate.jsonl", "{\"text\":\"a\\ud800b\"}\n"u8.ToArray(), ":1: text: " },
        { "array.jsonl", "[1,2]\n"u8.ToArray(), ":1: expected a JSON object" },
        { "table.csv", "a,b\n"u8.ToArray(), "unsupported extension" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Prepare_BadInput_RefusedWithFileAndLineAndNothingWritten(string name, byte[] bytes, string expected)
    {
        var good = WriteJsonl("good.jsonl", [("g", new SyntheticText(seed: 8).Document(40))]);
        var path = WriteBytes(name, bytes);
        var outDir = Path.Combine(_dir, "out");
        var e = Assert.Throws<InvalidDataException>(() => new CorpusPreparer(new CorpusOptions()).Prepare([good, path], outDir));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.True(!Directory.Exists(outDir) || Directory.GetFiles(outDir).Length == 0, "output directory must stay empty");
    }

    [Fact]
    public void Prepare_LineOverCap_Refused()
    {
        var path = WriteBytes("long.txt", Encoding.UTF8.GetBytes("short line\n" + new string('x', 5000) + "\n"));
        var e = Assert.Throws<InvalidDataException>(() => new CorpusPreparer(new CorpusOptions { MaxLineBytes = 1024 }).Prepare([path], Path.Combine(_dir, "out")));
        Assert.Contains($"{path}:2: line longer than 1024 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_BandsNotDividingPermutations_Refused() =>
        Assert.Contains("Bands", Assert.Throws<ArgumentException>(() => new CorpusOptions { Permutations = 128, Bands = 30 }.Validate()).Message, StringComparison.Ordinal);
}
