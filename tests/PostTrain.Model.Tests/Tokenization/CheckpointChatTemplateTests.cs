using System.Text.Json;
using PostTrain.Model.Tokenization;
using PostTrain.Model.Tokenization.Jinja;

namespace PostTrain.Model.Tests.Tokenization;

/// <summary>ChatTemplate on real checkpoints' tokenizers with their own Jinja templates (fixtures of TokenizerParityTests).</summary>
public sealed class CheckpointChatTemplateTests
{
    private static readonly ChatMessage[] Prompt = [ChatMessage.System("Answer briefly."), ChatMessage.User("What is 482 + 739?")];

    private static string PublishedTemplate(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "templates", "templates.json")));
        return doc.RootElement.GetProperty(name).GetProperty("template").GetString()!;
    }

    [Theory]
    [InlineData("qwen2", "chatml", "<|im_end|>")]
    [InlineData("llama2", "zephyr", "</s>")]
    [InlineData("llama3", "llama3.1", "<|eot_id|>")]
    public void EncodeExample_CheckpointTemplate_PromptPrefixResponseIsContentEndIsFormattingAndStops(string tokenizerName, string templateName, string stop)
    {
        var tokenizer = TokenizerLoader.Load(TokenizerParityTests.Unpack(tokenizerName))!;
        var template = new ChatTemplate(tokenizer, PublishedTemplate(templateName), templateName);
        Assert.True(template.UsesCheckpointTemplate);
        Assert.Equal(tokenizer.TokenToId(stop), template.StopIds[0]);

        var prompt = template.EncodePrompt(Prompt);
        Assert.Equal(tokenizer.EncodeWithSpecials(template.RenderText(Prompt, addGenerationPrompt: true)), prompt.Ids);
        var example = template.EncodeExample(Prompt, "1221 is the sum.");
        Assert.Equal(prompt.Ids, example.Ids.Take(prompt.Ids.Length));
        Assert.Equal(prompt.Ids.Length, example.PromptLength);
        Assert.Equal(tokenizer.EncodeWithSpecials(template.RenderText([.. Prompt, ChatMessage.Assistant("1221 is the sum.")], false)), example.Ids);

        var response = example.Ids[example.PromptLength..];
        var mask = example.IsFormatting[example.PromptLength..];
        var content = response.Where((_, i) => !mask[i]).ToArray();
        Assert.Contains("1221 is the sum.", tokenizer.Decode(content));
        Assert.Contains(template.StopIds[0], response.Where((_, i) => mask[i]));
        Assert.Equal("1221 is the sum.", template.DecodeResponse(response).Trim());
        // The system and user contents are content in the prompt; the specials around them are formatting.
        Assert.Contains("482 + 739", tokenizer.Decode(prompt.Ids.Where((_, i) => !prompt.IsFormatting[i]).ToArray()));
        Assert.All(prompt.Ids.Where(tokenizer.IsSpecial), id => Assert.True(prompt.IsFormatting[Array.IndexOf(prompt.Ids, id)]));
    }

    [Fact]
    public void Constructor_ImportedLlama3_UsesItsOwnTemplateWhichTrimsContent()
    {
        var tokenizer = TokenizerLoader.Load(TokenizerParityTests.Unpack("llama3"))!;
        var template = new ChatTemplate(tokenizer);
        Assert.True(template.UsesCheckpointTemplate);
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            template.RenderText([ChatMessage.User("  Hi  ")], addGenerationPrompt: true));
        Assert.Equal(tokenizer.TokenToId("<|eot_id|>"), template.StopIds[0]);
        Assert.Contains(tokenizer.EosId, template.StopIds);
    }

    [Fact]
    public void Constructor_PostTrainTokenizer_KeepsBuiltInLlama3Format()
    {
        var tokenizer = ByteBpeTokenizer.Train(TestCorpus.Lines(300), 330);
        Assert.False(new ChatTemplate(tokenizer).UsesCheckpointTemplate);
        var dir = Path.Combine(Path.GetTempPath(), $"posttrain-own-{Guid.NewGuid():N}");
        try
        {
            tokenizer.Save(dir);
            Assert.False(new ChatTemplate(TokenizerLoader.Load(dir)!).UsesCheckpointTemplate);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Constructor_TemplateOutsideSubset_RefusedWithSourceAndConstruct()
    {
        var tokenizer = TokenizerLoader.Load(TokenizerParityTests.Unpack("qwen2"))!;
        var e = Assert.Throws<JinjaException>(() => new ChatTemplate(tokenizer, "{% macro m() %}{% endmacro %}", "my.jinja"));
        Assert.StartsWith("my.jinja: line 1: unsupported Jinja construct '{% macro %}'", e.Message);
    }

    [Fact]
    public void EncodeExample_TemplateRaises_ErrorCarriesTheTemplatesMessage()
    {
        var tokenizer = TokenizerLoader.Load(TokenizerParityTests.Unpack("llama2"))!;
        var template = new ChatTemplate(tokenizer, PublishedTemplate("mistral"), "mistral");
        var e = Assert.Throws<JinjaException>(() => template.EncodePrompt([ChatMessage.System("s"), ChatMessage.User("u")]));
        Assert.Contains("Conversation roles must alternate", e.Message);
    }
}
