using System.Text.Json;
using PostTrain.Cli.Tests.Support;
using PostTrain.Model.Tokenization;

namespace PostTrain.Cli.Tests;

/// <summary><c>posttrain tokenize</c> end to end: --text, --file, --messages, --json, and its errors.</summary>
public sealed class TokenizeCommandTests
{
    private static string SentencePieceModel => Path.Combine(Posttrain.RepoRoot, "tests", "PostTrain.Model.Tests", "Fixtures", "tokenizers", "spm", "bpe.model");

    [Fact]
    public async Task Tokenize_FileJson_PrintsOneIdArrayPerString()
    {
        using var home = new TempHome("tok-file");
        var texts = Path.Combine(home.Root, "texts.json");
        await File.WriteAllTextAsync(texts, JsonSerializer.Serialize(new[] { "Hello world", "", "你好 12" }));
        var r = await Posttrain.RunAsync(home.Root, "tokenize", "--tokenizer", SentencePieceModel, "--file", texts, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var ids = JsonSerializer.Deserialize<int[][]>(r.Stdout)!;
        var tok = TokenizerLoader.LoadPath(SentencePieceModel);
        Assert.Equal(3, ids.Length);
        Assert.Equal(tok.Encode("Hello world"), ids[0]);
        Assert.Empty(ids[1]);
        Assert.Equal(tok.Encode("你好 12"), ids[2]);
    }

    [Fact]
    public async Task Tokenize_Messages_RendersOwnChatTemplateWithGenerationPrompt()
    {
        using var home = new TempHome("tok-msgs");
        var tok = ByteBpeTokenizer.Train(["What is 2 + 2? It is 4.", "Hello there, assistant."], 300);
        var dir = Path.Combine(home.Root, "tok");
        tok.Save(dir);
        var conv = Path.Combine(home.Root, "conv.json");
        await File.WriteAllTextAsync(conv, """[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 2?"}]""");
        var r = await Posttrain.RunAsync(home.Root, "tokenize", "--tokenizer", dir, "--messages", conv, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var text = doc.RootElement.GetProperty("text").GetString();
        Assert.Equal(ChatTemplate.Render([ChatMessage.System("Be brief."), ChatMessage.User("What is 2 + 2?")], addGenerationPrompt: true), text);
        Assert.Equal(tok.EncodeWithSpecials(text!), doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Theory]
    [InlineData("""{"a": 1}""", "expected a JSON array of strings, found Object")]
    [InlineData("""["ok", 3]""", "[1]: expected a string, found Number")]
    [InlineData("""["unclosed" """, "not valid JSON")]
    public async Task Tokenize_BadTextsFile_NamesFileAndReasonExitsNonZero(string content, string reason)
    {
        using var home = new TempHome("tok-bad");
        var texts = Path.Combine(home.Root, "texts.json");
        await File.WriteAllTextAsync(texts, content);
        var r = await Posttrain.RunAsync(home.Root, "tokenize", "--tokenizer", SentencePieceModel, "--file", texts);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(texts, r.Stderr);
        Assert.Contains(reason, r.Stderr);
    }

    [Fact]
    public async Task Tokenize_MessageWithoutRole_NamesFieldExitsNonZero()
    {
        using var home = new TempHome("tok-role");
        var tok = ByteBpeTokenizer.Train(["some text here"], 290);
        var dir = Path.Combine(home.Root, "tok");
        tok.Save(dir);
        var conv = Path.Combine(home.Root, "conv.json");
        await File.WriteAllTextAsync(conv, """[{"role": "user", "content": "hi"}, {"content": "no role"}]""");
        var r = await Posttrain.RunAsync(home.Root, "tokenize", "--tokenizer", dir, "--messages", conv);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"{conv}: [1].role: missing or not a string", r.Stderr);
    }

    [Fact]
    public async Task Tokenize_NoInputOrTwoInputs_UsageErrorNamesOptions()
    {
        using var home = new TempHome("tok-usage");
        var r = await Posttrain.RunAsync(home.Root, "tokenize", "--tokenizer", SentencePieceModel, "--text", "a", "--file", "b.json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("exactly one of --text TEXT, --file TEXTS.json or --messages CONV.json", r.Stderr);
    }
}
