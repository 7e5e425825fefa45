using PostTrain.Engine.Store;

namespace PostTrain.Cli.Owner;

/// <summary>
/// One owner per home, many clients: a long-running command talks to the process that serves the home
/// (<see cref="OwnerClient"/>), or else becomes the owner itself (<see cref="LocalOwner"/>, serving the same API).
/// </summary>
public static class OwnerConnection
{
    /// <summary>How long a command that lost the race for the lock waits for the winner to serve its API.</summary>
    private static readonly TimeSpan ServeWait = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The owner serving <paramref name="home"/>, else this process as the owner (<paramref name="startLocal"/>). A
    /// process that started at the same moment and took the lock first is waited for until it serves; a lock held by
    /// a process that serves nothing (an older posttrain, <c>report</c>, <c>data import</c>) fails with its owner named.
    /// </summary>
    /// <param name="stop">The command's Ctrl+C, which also ends an owner's wait for runs other commands gave it.</param>
    /// <param name="device">The command's --device: it names this process's worker, which a client does not run.</param>
    public static async Task<IHomeOwner> OpenAsync(PostTrainHome home, Func<Task<LocalHost>> startLocal, CancellationToken stop, string device = "cpu")
    {
        if (OwnerClient.Find(home) is { } client) return Noted(client, device);
        try { return new LocalOwner(await startLocal(), stop); }
        catch (HomeLockedException)
        {
            var deadline = DateTime.UtcNow + ServeWait;
            while (DateTime.UtcNow < deadline && HomeLock.IsHeld(home) && LockHolderServes(home))
            {
                if (OwnerClient.Find(home) is { } late) return Noted(late, device);
                await Task.Delay(250);
            }
            if (OwnerClient.Find(home) is { } last) return Noted(last, device);
            throw;
        }
    }

    private static OwnerClient Noted(OwnerClient client, string device)
    {
        if (!string.Equals(device, "cpu", StringComparison.OrdinalIgnoreCase))
            Console.Error.WriteLine($"note: --device {device} is for a worker in this process; the steps run on the workers of {client.Remote}");
        return client;
    }

    /// <summary>Long-running owners serve their API; one-off ones (report, data import, cancel) do not.</summary>
    private static bool LockHolderServes(PostTrainHome home) =>
        HomeLock.DescribeOwner(home) is not { } owner || Serving.Any(p => owner.Contains($"(posttrain {p})", StringComparison.Ordinal));

    private static readonly string[] Serving = ["studio", "host", "iterate", "run", "resume"];

    /// <summary>
    /// After Ctrl+C, locally or as a client (the same for both: the run stops, wherever its engine is): marks the run
    /// interrupted, so status shows it is not running, and prints the command that continues it.
    /// </summary>
    public static async Task<int> InterruptedAsync(IHomeOwner owner, Guid runId, PostTrainHome home)
    {
        await owner.InterruptAsync(runId);
        Console.Error.WriteLine($"interrupted; run {runId} is marked Interrupted and keeps its finished steps. Continue it with:");
        Console.Error.WriteLine($"posttrain resume {runId} --home {home.Root}");
        return CliApp.Interrupted;
    }
}
