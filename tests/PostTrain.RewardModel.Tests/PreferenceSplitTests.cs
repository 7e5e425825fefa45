using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;

namespace PostTrain.RewardModel.Tests;

public sealed class PreferenceSplitTests
{
    private static PreferencePair Pair(int prompt, string rejected) => new([ChatMessage.User($"What is {prompt} + 1?")], (prompt + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), rejected);

    [Fact]
    public void ByPrompt_PairsOfOnePrompt_NeverOnBothSides()
    {
        var pairs = Enumerable.Range(0, 400).SelectMany(i => new[] { Pair(i, "x"), Pair(i, "y") }).ToList();
        var (train, heldOut) = PreferenceSplit.ByPrompt(pairs, 0.1);
        Assert.Equal(pairs.Count, train.Count + heldOut.Count);
        Assert.Empty(train.Select(p => p.Prompt[0].Content).Intersect(heldOut.Select(p => p.Prompt[0].Content)));
        Assert.InRange(heldOut.Count, 40, 120);   // ~10% of 800, in whole prompts
        Assert.All(heldOut.GroupBy(p => p.Prompt[0].Content), g => Assert.Equal(2, g.Count()));
    }

    [Fact]
    public void Evaluate_GroupsByTaskKind_AddsUpToTheOverallAccuracy()
    {
        var tokenizer = ByteBpeTokenizer.Train(["What is 12 + 1? 13", "Sort in ascending order: 3, 1, 2 gives 1, 2, 3"], 300);
        TorchSharp.torch.manual_seed(3);
        using var rm = new PostTrain.RewardModel.RewardModel(new PostTrain.Model.LlamaForCausalLM(PostTrain.Model.LlamaConfig.Preset("tiny")), tokenizer, likelihoodWeight: 1);
        var template = new ChatTemplate(tokenizer);
        PreferencePair Kind(PreferencePair p, string kind) => p with { Source = new Dictionary<string, string> { [AccuracyByKind.SourceKey] = kind } };
        var pairs = Enumerable.Range(0, 12).Select(i => Kind(Pair(i, (i + 7).ToString(System.Globalization.CultureInfo.InvariantCulture)), i % 3 == 0 ? "Sorting" : "Addition"))
            .Append(Pair(99, "1")) // no kind: counted overall, in no group
            .ToList();

        var byKind = AccuracyByKind.Evaluate(rm, pairs, template);

        Assert.Equal(["Addition", "Sorting"], byKind.Keys);
        Assert.Equal(8, byKind["Addition"].Count);
        Assert.Equal(4, byKind["Sorting"].Count);
        var withKind = PostTrain.RewardModel.RewardModelTrainer.Evaluate(rm, PostTrain.RewardModel.PreferenceComparisons.Build(pairs.Take(12), template));
        Assert.Equal(withKind.Accuracy * 12, byKind.Values.Sum(e => e.Accuracy * e.Count), 6);
    }

    [Fact]
    public void ByPrompt_ZeroFraction_AllTrain_OnePrompt_FirstPairHeldOut()
    {
        var pairs = new[] { Pair(1, "a"), Pair(1, "b"), Pair(1, "c") };
        Assert.Empty(PreferenceSplit.ByPrompt(pairs, 0).HeldOut);
        var (train, heldOut) = PreferenceSplit.ByPrompt(pairs, 0.1);
        Assert.Equal(["a"], heldOut.Select(p => p.Rejected));
        Assert.Equal(["b", "c"], train.Select(p => p.Rejected));
    }
}
