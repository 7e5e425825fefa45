using PostTrain.Model.Data;
using PostTrain.Model.Prompts;

namespace PostTrain.Model.Tests.Prompts;

public sealed class CheckerAnnotatorTests
{
    private static readonly VerifiableTask Task = new("addition-x", TaskKind.Addition, "What is 2 + 3?", "5");

    [Fact]
    public void Annotate_MixedResponses_PairsCorrectOverWrong()
    {
        var a = new CheckerAnnotator(maxPairsPerTask: 4).Annotate(Task, ["5", "6", "The answer is 5", "7", "6"]);
        Assert.Equal([true, false, true, false, false], a.IsCorrect);
        Assert.Equal(2, a.CorrectCount);
        Assert.Equal(["5", "The answer is 5"], a.CorrectResponses);
        Assert.Equal(2, a.Pairs.Count); // max(2 distinct correct, 2 distinct wrong)
        Assert.All(a.Pairs, p =>
        {
            Assert.True(TaskChecker.IsCorrect(Task, p.Chosen));
            Assert.False(TaskChecker.IsCorrect(Task, p.Rejected));
            Assert.Equal("What is 2 + 3?", p.Prompt[^1].Content);
            Assert.Equal("checker", p.Source!["annotator"]);
        });
        Assert.Equal(a.Pairs.Count, a.Pairs.Select(p => (p.Chosen, p.Rejected)).Distinct().Count());
    }

    [Fact]
    public void Annotate_AllCorrectOrAllWrong_NoPairs()
    {
        var annotator = new CheckerAnnotator();
        Assert.Empty(annotator.Annotate(Task, ["5", "5."]).Pairs);
        Assert.Empty(annotator.Annotate(Task, ["4", "6"]).Pairs);
    }

    [Fact]
    public void Annotate_MaxPairs_Caps()
    {
        var a = new CheckerAnnotator(maxPairsPerTask: 1).Annotate(Task, ["5", "1", "2", "3"]);
        Assert.Single(a.Pairs);
    }
}
