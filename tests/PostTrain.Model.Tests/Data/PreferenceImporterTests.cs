using System.Text;
using PostTrain.Model.Data;
using PostTrain.Model.Tests.Tokenization;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Data;

public sealed class PreferenceImporterTests : IDisposable
{
    private readonly DataFiles _files = new();
    private readonly PreferenceImporter _importer = new();

    public void Dispose() => _files.Dispose();

    private PreferenceImportException Rejected(string path, PreferenceImporter? importer = null)
    {
        var result = (importer ?? _importer).TryImport(path);
        Assert.False(result.Succeeded);
        Assert.Null(result.Pairs);
        return Assert.Throws<PreferenceImportException>(() => (importer ?? _importer).Import(path));
    }

    [Fact]
    public void Import_ExplicitStrings_PromptBecomesUserMessage()
    {
        var path = _files.Write("a.jsonl", """
            {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "5"}
            {"prompt": "Sort: 3, 1", "chosen": "1, 3", "rejected": "3, 1"}

            """);
        var result = _importer.TryImport(path);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(PreferenceFormat.ExplicitPrompt, result.Format);
        var pair = result.Pairs![0];
        Assert.Equal([ChatMessage.User("What is 2 + 2?")], pair.Prompt);
        Assert.Equal("4", pair.Chosen);
        Assert.Equal("5", pair.Rejected);
        Assert.Equal("1", pair.Source!["line"]);
        Assert.Equal("2", result.Pairs[1].Source!["line"]);
    }

    [Fact]
    public void Import_ExplicitMessageLists_KeepsConversation()
    {
        var path = _files.Write("a.jsonl", """
            {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}], "rejected": [{"role": "assistant", "content": "Go away."}], "edited": "Hello there!", "margin": 2}

            """);
        var pair = Assert.Single(_importer.Import(path));
        Assert.Equal(2, pair.Prompt.Count);
        Assert.Equal("Hello!", pair.Chosen);
        Assert.Equal("Go away.", pair.Rejected);
        Assert.Equal("Hello there!", pair.Edited);
        Assert.Equal(2, pair.Margin);
    }

    [Fact]
    public void Import_UltraFeedbackBinarized_StripsPromptAndKeepsScores()
    {
        var path = _files.Write("uf.jsonl", """
            {"prompt": "Name a color.", "prompt_id": "abc", "chosen": [{"role": "user", "content": "Name a color."}, {"role": "assistant", "content": "Blue."}], "rejected": [{"role": "user", "content": "Name a color."}, {"role": "assistant", "content": "Seven."}], "score_chosen": 8.5, "score_rejected": 3.0}

            """);
        var result = _importer.TryImport(path);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(PreferenceFormat.UltraFeedback, result.Format);
        var pair = result.Pairs![0];
        Assert.Equal([ChatMessage.User("Name a color.")], pair.Prompt);
        Assert.Equal("Blue.", pair.Chosen);
        Assert.Equal("Seven.", pair.Rejected);
        Assert.Equal(8.5, pair.ScoreChosen);
        Assert.Equal(3.0, pair.ScoreRejected);
    }

    [Fact]
    public void Import_HhRlhfImplicitPrompt_SharedPrefixIsPrompt()
    {
        var path = _files.Write("hh.jsonl", """
            {"chosen": "\n\nHuman: What is 2 + 2?\n\nAssistant: It is 4.\n\nHuman: And 3 + 3?\n\nAssistant: It is 6.", "rejected": "\n\nHuman: What is 2 + 2?\n\nAssistant: It is 4.\n\nHuman: And 3 + 3?\n\nAssistant: It is 7."}

            """);
        var result = _importer.TryImport(path);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(PreferenceFormat.ImplicitPrompt, result.Format);
        var pair = result.Pairs![0];
        Assert.Equal([ChatMessage.User("What is 2 + 2?"), ChatMessage.Assistant("It is 4."), ChatMessage.User("And 3 + 3?")], pair.Prompt);
        Assert.Equal("It is 6.", pair.Chosen);
        Assert.Equal("It is 7.", pair.Rejected);
    }

    [Fact]
    public void Import_ImplicitMessageLists_LongestSharedPrefixIsPrompt()
    {
        var path = _files.Write("c.jsonl", """
            {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Bye"}]}

            """);
        var pair = Assert.Single(_importer.Import(path));
        Assert.Equal([ChatMessage.User("Hi")], pair.Prompt);
        Assert.Equal(("Hello", "Bye"), (pair.Chosen, pair.Rejected));
    }

    [Fact]
    public void Import_CrlfLinesWithBom_Accepted()
    {
        var path = _files.WriteBytes("crlf.jsonl", [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(
            "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\r\n{\"prompt\": \"r\", \"chosen\": \"c\", \"rejected\": \"d\"}\r\n")]);
        var pairs = _importer.Import(path);
        Assert.Equal(["a", "c"], pairs.Select(p => p.Chosen));
    }

    [Fact]
    public void Import_ImplicitPlainText_PromptEndsAtWordBoundary()
    {
        var path = _files.Write("plain.jsonl", """
            {"chosen": "What is 2 + 2? Four", "rejected": "What is 2 + 2? Five"}
            {"chosen": "Say hi. Hello there", "rejected": "Say hi. Help"}

            """);
        var pairs = _importer.Import(path);
        Assert.Equal([ChatMessage.User("What is 2 + 2?")], pairs[0].Prompt);
        Assert.Equal(("Four", "Five"), (pairs[0].Chosen, pairs[0].Rejected));
        Assert.Equal(("Hello there", "Help"), (pairs[1].Chosen, pairs[1].Rejected));
    }

    [Fact]
    public void Import_ImplicitNoSharedPrefix_Rejected()
    {
        var path = _files.Write("noprefix.jsonl", """
            {"chosen": "Yes", "rejected": "No"}

            """);
        Assert.Contains("no prefix", Assert.Single(Rejected(path).Errors).Reason);
    }

    [Fact]
    public void Import_EmptyStrings_ReportsEachField()
    {
        var path = _files.Write("e.jsonl", """
            {"prompt": "", "chosen": "", "rejected": "x"}

            """);
        var e = Rejected(path);
        Assert.Contains(e.Errors, x => x.Line == 1 && x.Field.StartsWith("prompt", StringComparison.Ordinal) && x.Reason.Contains("empty"));
        Assert.Contains(e.Errors, x => x.Line == 1 && x.Field == "chosen" && x.Reason.Contains("empty"));
    }

    [Fact]
    public void Import_ChosenEqualsRejected_Rejected()
    {
        var path = _files.Write("same.jsonl", """
            {"prompt": "q", "chosen": "same", "rejected": "same"}

            """);
        var error = Assert.Single(Rejected(path).Errors);
        Assert.Equal($"{path}:1: rejected: identical to chosen; a preference pair needs two different responses", error.ToString());
    }

    [Fact]
    public void Import_WrongJsonTypes_NameFieldAndFoundType()
    {
        var path = _files.Write("types.jsonl", """
            {"prompt": "q", "chosen": 42, "rejected": "r"}
            {"prompt": [{"role": "user", "content": 7}], "chosen": "c", "rejected": "r"}
            {"prompt": "q", "chosen": "c", "rejected": "r", "score_chosen": "high"}
            ["not", "an", "object"]

            """);
        var errors = Rejected(path).Errors;
        Assert.Contains(errors, x => x.ToString() == $"{path}:1: chosen: expected a string or a list of {{\"role\", \"content\"}} messages, found number 42");
        Assert.Contains(errors, x => x.Line == 2 && x.Field == "prompt[0].content" && x.Reason.Contains("number 7"));
        Assert.Contains(errors, x => x.Line == 3 && x.Field == "score_chosen" && x.Reason.Contains("string \"high\""));
        Assert.Contains(errors, x => x.Line == 4 && x.Reason.Contains("expected a JSON object"));
    }

    [Fact]
    public void Import_MalformedJsonMidFile_ReportsLineAndKeepsGoing()
    {
        var path = _files.Write("bad.jsonl", """
            {"prompt": "q", "chosen": "a", "rejected": "b"}
            {"prompt": "q", "chosen": "a" "rejected": "b"}
            {"prompt": "q", "chosen": "a", "rejected": "a"}

            """);
        var errors = Rejected(path).Errors;
        Assert.Equal(2, errors.Count);
        Assert.Equal((2, "json"), (errors[0].Line, errors[0].Field));
        Assert.StartsWith("malformed JSON", errors[0].Reason);
        Assert.Equal(3, errors[1].Line);
    }

    [Fact]
    public void Import_OverLongSequence_ReportsTokenCountAndLimit()
    {
        var tokenizer = ByteBpeTokenizer.Train(TestCorpus.Lines(200), 300);
        var importer = new PreferenceImporter(new PreferenceImportOptions { Template = new ChatTemplate(tokenizer), MaxTokens = 40 });
        var path = _files.Write("long.jsonl", $$"""
            {"prompt": "q", "chosen": "short", "rejected": "{{new string('z', 200)}}"}

            """);
        var error = Assert.Single(Rejected(path, importer).Errors);
        Assert.Equal("rejected", error.Field);
        Assert.Matches(@"prompt \+ rejected is \d+ tokens, max is 40", error.Reason);
    }

    [Fact]
    public void Import_OverLongWithTokenizerOnly_CountedThroughChatTemplate()
    {
        var tokenizer = ByteBpeTokenizer.Train(TestCorpus.Lines(200), 300);
        var importer = new PreferenceImporter(new PreferenceImportOptions { Tokenizer = tokenizer, MaxTokens = 30 });
        var path = _files.Write("long.jsonl", $$"""
            {"prompt": "q", "chosen": "{{new string('y', 100)}}", "rejected": "no"}

            """);
        var error = Assert.Single(Rejected(path, importer).Errors);
        Assert.Equal("chosen", error.Field);
        var expected = new ChatTemplate(tokenizer).EncodeExample([ChatMessage.User("q")], new string('y', 100)).Length;
        Assert.Equal($"prompt + chosen is {expected} tokens, max is 30", error.Reason);
    }

    [Fact]
    public void Import_InvalidUtf8_ReportsLineAndByte()
    {
        var good = Encoding.UTF8.GetBytes("{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n");
        var bad = (byte[])[.. Encoding.UTF8.GetBytes("{\"prompt\": \"q\", \"chosen\": \"a"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\", \"rejected\": \"b\"}\n")];
        var path = _files.WriteBytes("utf8.jsonl", [.. good, .. bad, .. good]);
        var error = Assert.Single(Rejected(path).Errors);
        Assert.Equal(2, error.Line);
        Assert.Contains("invalid UTF-8", error.Reason);
        Assert.Contains("0xC3", error.Reason);
    }

    [Fact]
    public void Import_TruncatedLastLine_ReportedAsTruncated()
    {
        var path = _files.Write("trunc.jsonl", "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n{\"prompt\": \"q\", \"chos");
        var error = Assert.Single(Rejected(path).Errors);
        Assert.Equal(2, error.Line);
        Assert.StartsWith("truncated last line", error.Reason);
    }

    [Fact]
    public void Import_LastLineWithoutNewlineButComplete_Accepted()
    {
        var path = _files.Write("nonl.jsonl", "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}");
        Assert.Single(_importer.Import(path));
    }

    [Fact]
    public void Import_UnknownFormat_ListsFoundAndExpectedFields()
    {
        var path = _files.Write("unk.jsonl", """
            {"question": "q", "answer": "a"}

            """);
        var error = Assert.Single(Rejected(path).Errors);
        Assert.Equal("format", error.Field);
        Assert.Contains("{question, answer}", error.Reason);
        Assert.Contains("{prompt, chosen, rejected}", error.Reason);
    }

    [Fact]
    public void Import_ManyBadLines_EveryLineListedAndNothingReturned()
    {
        var lines = Enumerable.Range(0, 10).Select(i => i % 3 == 0
            ? "{\"prompt\": \"q\", \"chosen\": \"x\", \"rejected\": \"x\"}"
            : $"{{\"prompt\": \"q{i}\", \"chosen\": \"a\", \"rejected\": \"b\"}}");
        var path = _files.Write("many.jsonl", string.Join("\n", lines) + "\n");
        var e = Rejected(path);
        Assert.Equal([1, 4, 7, 10], e.Errors.Select(x => x.Line));
        Assert.Contains($"{path}:10: rejected:", e.Message);
    }

    [Fact]
    public void Import_MixedExplicitAndImplicit_Rejected()
    {
        var path = _files.Write("mixed.jsonl", """
            {"prompt": "q", "chosen": "a", "rejected": "b"}
            {"chosen": "q a", "rejected": "q b"}

            """);
        var error = Assert.Single(Rejected(path).Errors);
        Assert.Equal((2, "format"), (error.Line, error.Field));
    }

    [Fact]
    public void Import_EmptyFile_Rejected()
    {
        var path = _files.Write("empty.jsonl", "");
        Assert.Contains("no preference pairs", Assert.Single(Rejected(path).Errors).Reason);
    }

    [Fact]
    public void Import_ScoreChosenBelowRejected_Rejected()
    {
        var path = _files.Write("scores.jsonl", """
            {"prompt": "q", "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}], "score_chosen": 2, "score_rejected": 5}

            """);
        Assert.Equal("score_chosen", Assert.Single(Rejected(path).Errors).Field);
    }
}
