using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

public sealed class ChatTemplateTests
{
    private static readonly Lazy<ByteBpeTokenizer> Tok = new(() => ByteBpeTokenizer.Train(TestCorpus.Lines(1000), 400));
    private static ChatTemplate Template => new(Tok.Value);
    private static readonly ChatMessage[] Prompt = [ChatMessage.System("Answer briefly."), ChatMessage.User("What is 482 + 739?")];

    [Fact]
    public void EncodePrompt_Conversation_StartsWithBosEndsWithAssistantHeader()
    {
        var t = Template;
        var enc = t.EncodePrompt(Prompt);
        Assert.Equal(Tok.Value.BosId, enc.Ids[0]);
        Assert.Equal(enc.Ids.Length, enc.PromptLength);
        var tail = Tok.Value.Decode(enc.Ids.AsSpan(enc.Ids.Length - 4));
        Assert.EndsWith("<|start_header_id|>assistant<|end_header_id|>\n\n", Tok.Value.Decode(enc.Ids));
        Assert.Equal(ChatTemplate.Render(Prompt, addGenerationPrompt: true), Tok.Value.Decode(enc.Ids));
        Assert.NotEmpty(tail);
    }

    [Fact]
    public void EncodeExample_PromptAndResponse_PromptIdsArePrefix()
    {
        var t = Template;
        var prompt = t.EncodePrompt(Prompt);
        var example = t.EncodeExample(Prompt, "1221");
        Assert.Equal(prompt.Ids, example.Ids.Take(prompt.Ids.Length));
        Assert.Equal(prompt.Ids.Length, example.PromptLength);
        Assert.Equal(t.EndOfTurnId, example.Ids[^1]);
        Assert.Equal("1221", t.DecodeResponse(example.Ids.AsSpan(example.PromptLength)));
    }

    [Fact]
    public void EncodeExample_FormattingMask_MarksHeadersRolesEotAndBosOnly()
    {
        var t = Template;
        var tok = Tok.Value;
        var example = t.EncodeExample([ChatMessage.User("hi")], "1221");
        var formatting = Enumerable.Range(0, example.Length).Where(i => example.IsFormatting[i]).Select(i => example.Ids[i]).ToArray();
        var content = Enumerable.Range(0, example.Length).Where(i => !example.IsFormatting[i]).Select(i => example.Ids[i]).ToArray();
        Assert.Equal("hi1221", tok.Decode(content));
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<|eot_id|>", tok.Decode(formatting));
        // The closing eot is formatting and also a response (SFT target) token.
        Assert.True(example.IsFormatting[^1]);
        Assert.True(example.Length - 1 >= example.PromptLength);
    }

    [Fact]
    public void EncodePrompt_Message_EncodesNewlinesWithContentLikeHuggingFace()
    {
        // HF tokenizes the rendered template between specials: "\n\n" + content is one text run, and the
        // generation prompt's trailing "\n\n" is a run of its own.
        var tok = Tok.Value;
        int Id(string s) => tok.TokenToId(s)!.Value;
        int[] expected =
        [
            tok.BosId, Id(SpecialTokens.StartHeader), .. tok.Encode("user"), Id(SpecialTokens.EndHeader), .. tok.Encode("\n\nHello"), Id(SpecialTokens.EndOfTurn),
            Id(SpecialTokens.StartHeader), .. tok.Encode("assistant"), Id(SpecialTokens.EndHeader), .. tok.Encode("\n\n"),
        ];
        Assert.Equal(expected, Template.EncodePrompt([ChatMessage.User("Hello")]).Ids);
    }

    [Theory]
    [InlineData("Hello")]
    [InlineData("\nstarts with a newline")]
    [InlineData(" starts with a space")]
    [InlineData("42 starts with digits")]
    public void EncodePrompt_ContentEdgeCases_ContentTokensDecodeToContent(string content)
    {
        var enc = Template.EncodePrompt([ChatMessage.User(content)]);
        var contentIds = Enumerable.Range(0, enc.Length).Where(i => !enc.IsFormatting[i]).Select(i => enc.Ids[i]).ToArray();
        Assert.Equal(content, Tok.Value.Decode(contentIds));
    }

    [Fact]
    public void DecodeResponse_StopTokenMidway_StopsThere()
    {
        var t = Template;
        var tok = Tok.Value;
        int[] generated = [.. tok.Encode("42"), t.EndOfTurnId, .. tok.Encode("garbage")];
        Assert.Equal("42", t.DecodeResponse(generated));
        Assert.Equal("42", t.DecodeResponse([.. tok.Encode("42"), tok.EosId, .. tok.Encode("x")]));
        Assert.Equal("42", t.DecodeResponse(tok.Encode("42")));
    }

    [Fact]
    public void StopIds_Always_StartWithEot()
    {
        var t = Template;
        Assert.Equal(Tok.Value.TokenToId(SpecialTokens.EndOfTurn), t.StopIds[0]);
        Assert.Contains(Tok.Value.EosId, t.StopIds);
    }

    [Fact]
    public void EncodePrompt_UnknownRole_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Template.EncodePrompt([new ChatMessage("robot", "x")]));
        Assert.Contains("robot", e.Message);
        Assert.Contains("assistant", e.Message);
    }

    [Fact]
    public void Constructor_TokenizerWithoutChatSpecials_ThrowsNamingTheToken()
    {
        var tok = ByteBpeTokenizer.Train(TestCorpus.Lines(50), 300, [SpecialTokens.BeginOfText, SpecialTokens.EndOfText, SpecialTokens.Pad]);
        var e = Assert.Throws<ArgumentException>(() => new ChatTemplate(tok));
        Assert.Contains(SpecialTokens.StartHeader, e.Message);
    }
}
