using System.Text.Json;
using PostTrain.Cli.Tests.Support;
using PostTrain.Pretrain.Corpus;

namespace PostTrain.Cli.Tests;

public sealed class CorpusAndScheduleCommandsTests
{
    [Fact]
    public async Task CorpusPrepare_Json_ParsesAndCountsDuplicates()
    {
        using var home = new TempHome("corpus");
        var text = new SyntheticText(seed: 4);
        var docs = Enumerable.Range(0, 12).Select(_ => text.Document(40)).ToList();
        var input = Path.Combine(home.Root, "in.jsonl");
        File.WriteAllLines(input, docs.Concat([docs[0], text.Edit(docs[1], 0.02)]).Select((t, i) => JsonSerializer.Serialize(new { id = i, text = t })));
        var outDir = Path.Combine(home.Root, "out");

        var r = await Posttrain.RunAsync(home.Root, "corpus", "prepare", input, "--out", outDir, "--json");

        Assert.True(r.ExitCode == 0, r.ToString());
        using var report = JsonDocument.Parse(r.Stdout);
        Assert.Equal(12, report.RootElement.GetProperty("kept").GetInt32());
        Assert.Equal(12, File.ReadLines(Path.Combine(outDir, "corpus.jsonl")).Count());
    }

    [Fact]
    public async Task CorpusPrepare_MissingTextField_ExitOneWithFileAndLine()
    {
        using var home = new TempHome("corpus");
        var input = Path.Combine(home.Root, "bad.jsonl");
        File.WriteAllText(input, "{\"id\":1,\"text\":\"fine\"}\n{\"id\":2}\n");
        var r = await Posttrain.RunAsync(home.Root, "corpus", "prepare", input, "--out", Path.Combine(home.Root, "out"));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains($"{input}:2: text: missing field", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenizerTrain_PreparedCorpusDirectory_WritesLoadableModel()
    {
        using var home = new TempHome("tokenizer");
        var text = new SyntheticText(seed: 6, vocabulary: 300);
        var outDir = Path.Combine(home.Root, "corpus");
        Directory.CreateDirectory(outDir);
        File.WriteAllLines(Path.Combine(outDir, "corpus.jsonl"), Enumerable.Range(0, 200).Select(i => JsonSerializer.Serialize(new { id = i, text = text.Document(30) + " 2024" })));

        var r = await Posttrain.RunAsync(home.Root, "tokenizer", "train", "--corpus", outDir, "--vocab-size", "600", "--out", Path.Combine(home.Root, "tok"), "--json");

        Assert.True(r.ExitCode == 0, r.ToString());
        var model = Path.Combine(home.Root, "tok", "tokenizer.model");
        var tokenizer = PostTrain.Model.Tokenization.SentencePieceTokenizer.Load(model);
        Assert.Equal(JsonDocument.Parse(r.Stdout).RootElement.GetProperty("vocabSize").GetInt32(), tokenizer.VocabSize);
        Assert.Equal(5, tokenizer.Encode("1999").Length); // the dummy-prefix ▁, then one piece per digit
    }

    [Fact]
    public async Task TokenizerTrain_BadLine_ExitOneNothingWritten()
    {
        using var home = new TempHome("tokenizer-bad");
        var input = Path.Combine(home.Root, "bad.jsonl");
        File.WriteAllText(input, "{\"text\":\"fine\"}\nnot json\n");
        var r = await Posttrain.RunAsync(home.Root, "tokenizer", "train", "--corpus", input, "--vocab-size", "300", "--out", Path.Combine(home.Root, "tok"));
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains($"{input}:2: not valid JSON", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(home.Root, "tok", "tokenizer.model")));
    }

    [Theory]
    [InlineData("--schedule", "linear", "option Schedule is linear")]
    [InlineData("--decay-fraction", "1.5", "option DecayFraction is 1.5")]
    [InlineData("--anneal-sft-upsample", "0", "option AnnealSftUpsample is 0")]
    public async Task Pretrain_ScheduleOptions_ReachPretrainOptions(string flag, string value, string expected)
    {
        using var home = new TempHome("corpus");
        var r = await Posttrain.RunAsync(home.Root, "pretrain", "--preset", "tiny", "--out", Path.Combine(home.Root, "p"), flag, value);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
    }
}
