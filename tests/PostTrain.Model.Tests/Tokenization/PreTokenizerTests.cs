using System.Text.Json;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

public sealed class PreTokenizerTests
{
    [Fact]
    public void Split_PostTrainLayout_IsolatesDigitsThenGpt2Regex()
    {
        // GPT-2's \s+(?!\S) stops one whitespace short of a word, so "\n\nIt" is "\n", "\n", "It".
        Assert.Equal(["What", " is", " ", "4", "8", " +", " ", "7", "?", "\n", "\n", "It", "'s"], PreTokenizer.PostTrain.Split("What is 48 + 7?\n\nIt's"));
    }

    [Fact]
    public void Split_Llama3Layout_UsesItsRegexOnly()
    {
        using var doc = JsonDocument.Parse(ByteBpeTokenizerTests.Llama3PreTokenizer);
        var pre = PreTokenizer.FromJson(doc.RootElement, out var reason);
        Assert.NotNull(pre);
        Assert.Null(reason);
        Assert.False(pre.IsPostTrainLayout);
        Assert.Equal(["IT", "'S", " ", "123", "45", " .", "Hello"], pre.Split("IT'S 12345 .Hello"));
    }

    [Theory]
    [InlineData("""{"type": "ByteLevel", "add_prefix_space": true}""", "add_prefix_space")]
    [InlineData("""{"type": "Digits", "individual_digits": true}""", "expected ByteLevel")]
    [InlineData("""{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"String": " "}, "behavior": "Removed"}, {"type": "ByteLevel"}]}""", "Split")]
    [InlineData("""{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"}, {"type": "ByteLevel"}]}""", "does not compile")]
    public void FromJson_UnsupportedLayout_ReturnsNullWithReason(string json, string expectedReason)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.Null(PreTokenizer.FromJson(doc.RootElement, out var reason));
        Assert.Contains(expectedReason, reason);
    }

    [Fact]
    public void Split_RandomText_ConcatenationIsInput()
    {
        var rng = new Random(2);
        for (var i = 0; i < 200; i++)
        {
            var text = ByteBpeTokenizerTests.RandomString(rng, rng.Next(0, 50));
            Assert.Equal(text, string.Concat(PreTokenizer.PostTrain.Split(text)));
        }
    }
}
