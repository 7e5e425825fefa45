using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Data;

public sealed class DatasetTests : IDisposable
{
    private readonly DataFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void PreferenceDatasetRead_Written_RoundTripsAllFields()
    {
        var pairs = new[]
        {
            new PreferencePair([ChatMessage.System("Be brief."), ChatMessage.User("What is 2 + 2? 日本 🙂")], "4", "5")
            {
                Edited = "4.", ScoreChosen = 1, ScoreRejected = 0, Margin = 0.5,
                Source = new Dictionary<string, string> { ["task_id"] = "addition-1" },
            },
            new PreferencePair([ChatMessage.User("q\nline")], "a \"quoted\"", "b"),
        };
        var path = _files.Path_("p.jsonl");
        PreferenceDataset.Write(path, pairs);
        var read = PreferenceDataset.Read(path);
        Assert.Equal(2, read.Count);
        Assert.Equal(pairs[0].Prompt, read[0].Prompt);
        Assert.Equal((pairs[0].Chosen, pairs[0].Rejected, pairs[0].Edited), (read[0].Chosen, read[0].Rejected, read[0].Edited));
        Assert.Equal((1.0, 0.0, 0.5), (read[0].ScoreChosen!.Value, read[0].ScoreRejected!.Value, read[0].Margin!.Value));
        Assert.Equal(pairs[0].Source, read[0].Source);
        Assert.Equal(pairs[1].Prompt, read[1].Prompt);
        Assert.Equal(pairs[1].Chosen, read[1].Chosen);
        Assert.Null(read[1].Source);
        Assert.Empty(Directory.GetFiles(_files.Dir, "*.tmp"));
    }

    [Fact]
    public void PreferenceDatasetWrite_Always_SnakeCaseOneObjectPerLine()
    {
        var path = _files.Path_("p.jsonl");
        PreferenceDataset.Write(path, [new PreferencePair([ChatMessage.User("q")], "a", "b") { ScoreChosen = 1 }]);
        var text = File.ReadAllText(path);
        Assert.Equal("{\"prompt\":[{\"role\":\"user\",\"content\":\"q\"}],\"chosen\":\"a\",\"rejected\":\"b\",\"score_chosen\":1}\n", text);
    }

    [Fact]
    public void SftDatasetRead_Written_RoundTrips()
    {
        var examples = new[]
        {
            new SftExample([ChatMessage.User("What is 1 + 1?")], "2") { Source = new Dictionary<string, string> { ["round"] = "1" } },
            new SftExample([ChatMessage.User("Sort: 2, 1")], "1, 2"),
        };
        var path = _files.Path_("sft.jsonl");
        SftDataset.Write(path, examples);
        var read = SftDataset.Read(path);
        Assert.Equal(examples[0].Prompt, read[0].Prompt);
        Assert.Equal("2", read[0].Response);
        Assert.Equal("1", read[0].Source!["round"]);
        Assert.Equal("1, 2", read[1].Response);
    }

    [Fact]
    public void SftDatasetRead_BadLines_AllReportedNothingReturned()
    {
        var path = _files.Write("sft.jsonl", """
            {"prompt": [{"role": "user", "content": "q"}], "response": "ok"}
            {"prompt": [{"role": "user", "content": "q"}], "response": ""}
            {"prompt": [{"role": "robot", "content": "q"}], "response": "x"}
            {"prompt": [{"role": "user", "content": "q"}], "response": 5}

            """);
        var e = Assert.Throws<PreferenceImportException>(() => SftDataset.Read(path));
        Assert.Equal([2, 3, 4], e.Errors.Select(x => x.Line));
        Assert.Equal("response", e.Errors[0].Field);
        Assert.Contains("robot", e.Errors[1].Reason);
    }

    [Fact]
    public void SftDatasetCheck_ManyBadLines_CountsAllKeepsFirstFewAndNoExample()
    {
        var good = """{"prompt": [{"role": "user", "content": "q"}], "response": "ok"}""";
        var bad = """{"prompt": [], "response": "x"}""";
        var path = _files.Write("many.jsonl", string.Join('\n', new[] { good, good }.Concat(Enumerable.Repeat(bad, 50)).Append(good)) + "\n");
        var (examples, errors, count) = SftDataset.Check(path, 20);
        Assert.Equal(3, examples);
        Assert.Equal(50, count);
        Assert.Equal(20, errors.Count);
        Assert.Equal(Enumerable.Range(3, 20), errors.Select(e => e.Line));
        Assert.All(errors, e => Assert.Equal("prompt", e.Field));

        var clean = _files.Write("clean.jsonl", good + "\n" + good + "\n");
        Assert.Equal((2, 0), (SftDataset.Check(clean, 20).Examples, SftDataset.Check(clean, 20).ErrorCount));
    }
}
