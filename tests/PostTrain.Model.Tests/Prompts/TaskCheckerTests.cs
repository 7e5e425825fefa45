using PostTrain.Model.Data;
using PostTrain.Model.Prompts;

namespace PostTrain.Model.Tests.Prompts;

public sealed class TaskCheckerTests
{
    private static readonly VerifiableTask Sum = new("addition-x", TaskKind.Addition, "What is 482 + 739?", "1221");
    private static readonly VerifiableTask Neg = new("subtraction-x", TaskKind.Subtraction, "What is 3 - 15?", "-12");
    private static readonly VerifiableTask Sort = new("sorting-x", TaskKind.Sorting, "Sort in ascending order: 15, 3, 8", "3, 8, 15");

    [Theory]
    [InlineData("1221", true)]
    [InlineData("  1221  ", true)]
    [InlineData("The answer is 1221.", true)]
    [InlineData("1,221", true)]
    [InlineData("1222", false)]
    [InlineData("12210", false)]
    [InlineData("1221 or 1222", true)]
    [InlineData("1222, no wait, 1221", false)]
    [InlineData("", false)]
    [InlineData("no idea", false)]
    public void IsCorrect_Addition_FirstNumberDecides(string response, bool expected) =>
        Assert.Equal(expected, TaskChecker.IsCorrect(Sum, response));

    [Theory]
    [InlineData("-12", true)]
    [InlineData("- 12", true)]
    [InlineData("−12", true)]
    [InlineData("12", false)]
    public void IsCorrect_NegativeAnswer_SignMatters(string response, bool expected) =>
        Assert.Equal(expected, TaskChecker.IsCorrect(Neg, response));

    [Theory]
    [InlineData("3, 8, 15", true)]
    [InlineData("3,8,15", true)]
    [InlineData("Sorted: 3 8 15", true)]
    [InlineData("3, 8", false)]
    [InlineData("3, 8, 15, 20", false)]
    [InlineData("15, 8, 3", false)]
    public void IsCorrect_Sorting_WholeListMustMatch(string response, bool expected) =>
        Assert.Equal(expected, TaskChecker.IsCorrect(Sort, response));

    [Fact]
    public void ExtractNumber_Overflow_ReturnsNull() => Assert.Null(TaskChecker.ExtractNumber("99999999999999999999999"));
}
