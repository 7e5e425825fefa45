using System.Text;
using PostTrain.Model.Prompts;
using PostTrain.Model.Tests.Data;

namespace PostTrain.Model.Tests.Prompts;

public sealed class PromptImporterTests : IDisposable
{
    private readonly DataFiles _files = new();

    public void Dispose() => _files.Dispose();

    private PromptImportResult Import(string path) => PromptImporter.Import(path, _files.Path_("out.jsonl"));

    [Fact]
    public void Import_TrlLayouts_PromptMessagesAndClosingAssistantAnswer()
    {
        var result = Import(Path.Combine(AppContext.BaseDirectory, "Fixtures", "prompts", "trl-prompt-only.jsonl"));
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var rows = PromptDataset.Read(_files.Path_("out.jsonl")).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal("The sky is", rows[0].Prompt);
        Assert.Null(rows[1].Messages);
        Assert.Equal("What color is the sky?", rows[1].Prompt);
        Assert.Equal("42", rows[2].Answer);
        Assert.Equal(2, rows[2].Messages!.Count);
        Assert.Equal([1, 2, 3], rows.Select(r => r.Line));
        Assert.Equal(2, PretrainCorpus.PromptFor(rows[2].ToTask()).Count);
    }

    [Fact]
    public void Import_SplitByPromptHash_RecordedAndStable()
    {
        var text = string.Concat(Enumerable.Range(0, 200).Select(i => $"{{\"prompt\": \"question {i}\", \"answer\": \"{i}\"}}\n"));
        var result = Import(_files.Write("many.jsonl", text));
        Assert.Equal(200, result.Rows);
        var rows = PromptDataset.Read(_files.Path_("out.jsonl")).ToList();
        Assert.Equal(result.HeldOut, rows.Count(r => r.Split == TaskSplit.HeldOut));
        Assert.InRange(result.HeldOut, 8, 35);
        Assert.All(rows, r => Assert.Equal(TaskGenerator.SplitOf(r.Prompt, PromptDataset.HeldOutFraction), r.Split));
    }

    [Fact]
    public void Import_BrokenLines_AllOrNothingWithLineAndField()
    {
        var path = _files.Write("bad.jsonl", """
            {"prompt": "fine"}
            {"prompt": ""}
            {"messages": [{"role": "robot", "content": "x"}]}
            {"question": "q", "choices": ["a", "b"], "answer": 7}
            not json
            {"text": "no prompt"}
            {"prompt": "ok", "answer": [1]}

            """);
        var result = Import(path);
        Assert.False(result.Succeeded);
        Assert.False(File.Exists(_files.Path_("out.jsonl")));
        var lines = result.Errors.Select(e => e.ToString()).ToList();
        Assert.Equal(6, result.ErrorCount);
        Assert.Contains($"{path}:2: prompt: is empty", lines);
        Assert.Contains(lines, l => l.StartsWith($"{path}:3: messages[0].role: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{path}:4: answer: is 7; expected a choice index 0..1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{path}:5: json: malformed JSON", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{path}:6: $: no prompt", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{path}:7: answer: expected a string or a number", StringComparison.Ordinal));
    }

    [Fact]
    public void Import_BadBytes_RefusedWithTheirLine()
    {
        var invalid = _files.WriteBytes("invalid.jsonl", [.. Encoding.UTF8.GetBytes("{\"prompt\": \"a\"}\n{\"prompt\": \""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}\n")]);
        Assert.Contains(Import(invalid).Errors, e => e.Line == 2 && e.Reason.Contains("invalid UTF-8", StringComparison.Ordinal));

        var utf16 = _files.WriteBytes("utf16.jsonl", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("{\"prompt\": \"a\"}\n")]);
        var e16 = Assert.Single(Import(utf16).Errors);
        Assert.Equal(1, e16.Line);
        Assert.Contains("UTF-16LE", e16.Reason, StringComparison.Ordinal);

        var nul = _files.WriteBytes("nul.jsonl", [.. Encoding.UTF8.GetBytes("{\"prompt\": \"a\"}\n{\"prompt\": \"b"), 0, .. Encoding.UTF8.GetBytes("\"}\n")]);
        Assert.Contains(Import(nul).Errors, e => e.Line == 2 && e.Reason.Contains("NUL", StringComparison.Ordinal));

        var surrogate = _files.Write("surrogate.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"x\\ud800y\"}\n");
        var es = Assert.Single(Import(surrogate).Errors);
        Assert.Equal((2, "prompt"), (es.Line, es.Field));
        Assert.Contains("surrogate", es.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_OverLongLine_RefusedWithoutReadingItWhole()
    {
        var path = _files.Path_("long.jsonl");
        using (var w = new StreamWriter(path))
        {
            w.Write("{\"prompt\": \"a\"}\n{\"prompt\": \"");
            w.Write(new string('x', PostTrain.Model.Data.JsonlLines.MaxLineBytes + 10));
            w.Write("\"}\n{\"prompt\": \"b\"}\n");
        }
        var e = Assert.Single(Import(path).Errors);
        Assert.Equal(2, e.Line);
        Assert.Contains("longer than", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_ManyBadLines_KeepsTwentyAndCountsAll()
    {
        var path = _files.Write("junk.jsonl", string.Concat(Enumerable.Repeat("[1]\n", 1000)));
        var result = Import(path);
        Assert.Equal(1000, result.ErrorCount);
        Assert.Equal(PromptImporter.MaxReportedErrors, result.Errors.Count);
    }

    [Fact]
    public void Import_DuplicatePrompts_DroppedAndCounted()
    {
        var result = Import(_files.Write("dups.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n{\"prompt\": \"a\"}\n"));
        Assert.Equal((2, 1), (result.Rows, result.Duplicates));
    }

    [Fact]
    public void FileSource_NumericVerifierCannotReadAnAnswer_NamesTheLine()
    {
        var math = Path.Combine(AppContext.BaseDirectory, "Fixtures", "prompts", "math.jsonl");
        Assert.True(Import(math).Succeeded);
        var e = Assert.Throws<InvalidOperationException>(() =>
            PromptFileSource.Open(_files.Path_("out.jsonl"), "numeric", "math.jsonl").CreateTaskSet(new TaskSetOptions()));
        Assert.StartsWith("math.jsonl:5: answer: no number", e.Message, StringComparison.Ordinal);
    }
}
