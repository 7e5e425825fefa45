using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

/// <summary>HF AddedVocabulary matching rules that the published files do not exercise (their flags are all false).</summary>
public sealed class AddedTokensTests
{
    private static List<(string Text, int? Id)> Split(AddedTokens.Token token, string text) => new AddedTokens([token]).Split(text);

    [Fact]
    public void Split_LStrip_SwallowsWhitespaceBeforeTheToken()
    {
        Assert.Equal([("a", null), ("<mask>", 7), (" b", null)], Split(new("<mask>", 7, true, LStrip: true), "a  \t<mask> b"));
    }

    [Fact]
    public void Split_RStrip_SwallowsWhitespaceAfterTheToken()
    {
        Assert.Equal([("a ", null), ("<mask>", 7), ("b", null)], Split(new("<mask>", 7, true, RStrip: true), "a <mask>  \nb"));
    }

    [Fact]
    public void Split_SingleWord_MatchesOnlyBetweenNonWordCharacters()
    {
        var token = new AddedTokens.Token("ok", 3, false, SingleWord: true);
        Assert.Equal([("book", null)], Split(token, "book"));
        Assert.Equal([("say ", null), ("ok", 3), ("!", null)], Split(token, "say ok!"));
    }

    [Fact]
    public void Split_OverlappingTokens_LeftmostThenLongestWins()
    {
        var added = new AddedTokens([new("<|a|>", 1, true), new("<|a|><|b|>", 2, true), new("|a", 3, true)]);
        Assert.Equal([("x", null), ("<|a|><|b|>", 2), ("<|a|>", 1)], added.Split("x<|a|><|b|><|a|>"));
    }
}
