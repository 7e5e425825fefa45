using PostTrain.Model.Inference;

namespace PostTrain.Model.Tests;

public class ChunkTeamTests
{
    [Fact]
    public void Run_EveryChunkOnceAndDoneOnReturn_OverManyLoops_WithIdleGapsBetweenThem()
    {
        using var team = new ChunkTeam(3);
        var caller = Environment.CurrentManagedThreadId;
        var threads = new HashSet<int>();
        for (var loop = 0; loop < 200; loop++)
        {
            var chunks = 1 + loop % 17;
            var counts = new int[chunks];
            team.Run(chunks, i =>
            {
                Thread.SpinWait(200 * (i % 3)); // uneven chunks, so threads overtake each other
                if (Environment.CurrentManagedThreadId != caller) Thread.Sleep(1); // a worker's chunk ends after the caller's
                Interlocked.Increment(ref counts[i]);
                lock (threads) threads.Add(Environment.CurrentManagedThreadId);
            });
            // Run returns only when every chunk has finished: a late increment would show here as a 0.
            Assert.All(counts, c => Assert.Equal(1, c));
            if (loop % 50 == 49) Thread.Sleep(10); // past the workers' spin: they block and must wake for the next loop
        }
        Assert.True(threads.Count > 1, "the workers never took a chunk");
    }

    [Fact]
    public void Run_AChunkThatThrows_RethrowsOnTheCaller_AndTheTeamRunsOn()
    {
        using var team = new ChunkTeam(2);
        var e = Assert.Throws<InvalidOperationException>(() => team.Run(8, i =>
        {
            if (i == 5) throw new InvalidOperationException("chunk 5");
        }));
        Assert.Equal("chunk 5", e.Message);
        var done = 0;
        team.Run(8, _ => Interlocked.Increment(ref done));
        Assert.Equal(8, done);
    }

    [Fact]
    public void Dispose_ReturnsOnceTheWorkersStop_AndRunAfterwardsIsRefused()
    {
        var team = new ChunkTeam(4);
        team.Run(4, _ => { });
        team.Dispose();
        team.Dispose();
        Assert.Throws<ObjectDisposedException>(() => team.Run(1, _ => { }));
    }
}
