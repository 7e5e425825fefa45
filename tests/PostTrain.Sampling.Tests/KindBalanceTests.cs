using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Sampling.Rejection;

namespace PostTrain.Sampling.Tests;

public class KindBalanceTests
{
    private static SftExample Example(string name) => new([ChatMessage.User(name)], name);

    private static readonly SftExample[] Kept =
        [.. Enumerable.Range(0, 6).Select(i => Example($"sort{i}")), Example("add0"), Example("add1"), Example("user0")];

    private static string? KindOf(SftExample e) => e.Response.StartsWith("user", StringComparison.Ordinal) ? null : e.Response[..3];

    [Fact]
    public void Upsample_ScarceKindRepeatedToTheLargest_UnknownKindOnce()
    {
        var balanced = KindBalance.Upsample(Kept, KindOf, maxCopies: 4);
        Assert.Equal(6, balanced.Count(e => KindOf(e) == "sor"));
        Assert.Equal(6, balanced.Count(e => KindOf(e) == "add"));
        Assert.Single(balanced, e => KindOf(e) is null);
        // Each repeat follows its example, so the input order survives.
        Assert.Equal(["add0", "add0", "add0", "add1", "add1", "add1"], balanced.Where(e => KindOf(e) == "add").Select(e => e.Response));
    }

    [Fact]
    public void Upsample_CopiesCapped()
    {
        var balanced = KindBalance.Upsample(Kept, KindOf, maxCopies: 2);
        Assert.Equal(4, balanced.Count(e => KindOf(e) == "add"));
        Assert.Same(Kept, KindBalance.Upsample(Kept, KindOf, maxCopies: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => KindBalance.Upsample(Kept, KindOf, maxCopies: 0));
    }
}
