using PostTrain.Workflows.Activities.Stages;

namespace PostTrain.Workflows.Tests.Stages;

public sealed class EvaluationMemoTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("posttrain-memo-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static IReadOnlyList<T> Never<T>() => throw new InvalidOperationException("computed again, expected the memo");

    [Fact]
    public void SameCheckpointAndSetting_ComputedOnce_NextActivityReadsIt()
    {
        var calls = 0;
        var first = new EvaluationMemo(_home, "tasks|0|24|cpu|0");
        Assert.Equal(["4", "7"], first.Responses("sha-a", () => { calls++; return ["4", "7"]; }));
        Assert.Equal([0.5, -1.25], first.Scores("rm-1", ["4", "7"], () => { calls++; return [0.5, -1.25]; }));
        Assert.Equal(0, first.Hits);

        var next = new EvaluationMemo(_home, "tasks|0|24|cpu|0");
        Assert.Equal(["4", "7"], next.Responses("sha-a", Never<string>));
        Assert.Equal([0.5, -1.25], next.Scores("rm-1", ["4", "7"], Never<double>));
        Assert.Equal(2, next.Hits);
        Assert.Equal(2, calls);
    }

    [Fact]
    public void AnyInputDiffers_ComputesAgain()
    {
        var memo = new EvaluationMemo(_home, "tasks|0|24|cpu|0");
        memo.Responses("sha-a", () => ["4"]);
        memo.Scores("rm-1", ["4"], () => [1.0]);
        Assert.Equal(["5"], memo.Responses("sha-b", () => ["5"]));
        Assert.Equal(["6"], new EvaluationMemo(_home, "tasks|0|32|cpu|0").Responses("sha-a", () => ["6"]));
        Assert.Equal([2.0], memo.Scores("rm-2", ["4"], () => [2.0]));
        Assert.Equal([3.0], memo.Scores("rm-1", ["5"], () => [3.0]));
        Assert.Equal(0, memo.Hits);
    }

    [Fact]
    public void DamagedEntry_IsRecomputedAndRewritten()
    {
        new EvaluationMemo(_home, "s").Responses("sha-a", () => ["4"]);
        var entry = Directory.GetFiles(Path.Combine(_home, "cache", "evaluate")).Single();
        File.WriteAllText(entry, "[\"4\", tru");
        Assert.Equal(["4"], new EvaluationMemo(_home, "s").Responses("sha-a", () => ["4"]));
        Assert.Equal(["4"], new EvaluationMemo(_home, "s").Responses("sha-a", Never<string>));
    }
}
