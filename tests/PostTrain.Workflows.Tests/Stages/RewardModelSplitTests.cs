using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Workflows.Activities.Stages;

namespace PostTrain.Workflows.Tests.Stages;

public sealed class RewardModelSplitTests
{
    private static PreferencePair Pair(int prompt, string rejected) => new([ChatMessage.User($"What is {prompt} + 1?")], (prompt + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), rejected);

    [Fact]
    public void SplitByPrompt_PairsOfOnePrompt_NeverOnBothSides()
    {
        var pairs = Enumerable.Range(0, 400).SelectMany(i => new[] { Pair(i, "x"), Pair(i, "y") }).ToList();
        var (train, heldOut) = TrainRewardModelActivity.SplitByPrompt(pairs, 0.1);
        Assert.Equal(pairs.Count, train.Count + heldOut.Count);
        Assert.Empty(train.Select(p => p.Prompt[0].Content).Intersect(heldOut.Select(p => p.Prompt[0].Content)));
        Assert.InRange(heldOut.Count, 40, 120);   // ~10% of 800, in whole prompts
        Assert.All(heldOut.GroupBy(p => p.Prompt[0].Content), g => Assert.Equal(2, g.Count()));
    }

    [Fact]
    public void SplitByPrompt_ZeroFraction_AllTrain_OnePrompt_FirstPairHeldOut()
    {
        var pairs = new[] { Pair(1, "a"), Pair(1, "b"), Pair(1, "c") };
        Assert.Empty(TrainRewardModelActivity.SplitByPrompt(pairs, 0).HeldOut);
        var (train, heldOut) = TrainRewardModelActivity.SplitByPrompt(pairs, 0.1);
        Assert.Equal(["a"], heldOut.Select(p => p.Rejected));
        Assert.Equal(["b", "c"], train.Select(p => p.Rejected));
    }
}
