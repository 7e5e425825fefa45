using System.Text;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

public sealed class TokenizerConfigTests
{
    private static TokenizerConfig Parse(string json) => TokenizerConfig.Parse(Encoding.UTF8.GetBytes(json), "DIR/tokenizer_config.json");

    [Fact]
    public void Parse_TokensAsStringsOrAddedTokenObjects_BothRead()
    {
        var c = Parse("""{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null, "chat_template": "{{ bos_token }}"}""");
        Assert.Equal("<s>", c.SpecialTokens["bos_token"]);
        Assert.Equal("</s>", c.SpecialTokens["eos_token"]);
        Assert.False(c.SpecialTokens.ContainsKey("pad_token"));
        Assert.Equal("{{ bos_token }}", c.ChatTemplate);
    }

    [Fact]
    public void Parse_TemplateList_UsesTheDefaultEntry()
    {
        var c = Parse("""{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}""");
        Assert.Equal("D", c.ChatTemplate);
    }

    [Fact]
    public void Parse_TemplateListWithoutDefault_NamesFileAndField()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("""{"chat_template": [{"name": "rag", "template": "R"}]}"""));
        Assert.Equal("DIR/tokenizer_config.json: chat_template: a list of templates has no entry named \"default\"", e.Message);
    }

    [Fact]
    public void Load_ChatTemplateJinjaFile_TakesPrecedenceOverTheConfig()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"posttrain-tc-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, TokenizerConfig.FileName), """{"chat_template": "from config"}""");
            File.WriteAllText(Path.Combine(dir, TokenizerConfig.TemplateFileName), "from file");
            var c = TokenizerConfig.Load(dir);
            Assert.Equal("from file", c.ChatTemplate);
            Assert.EndsWith(TokenizerConfig.TemplateFileName, c.ChatTemplateSource);
        }
        finally { Directory.Delete(dir, true); }
    }
}
