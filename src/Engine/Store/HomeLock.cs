using System.Text.Json;
using PostTrain.Core.Files;

namespace PostTrain.Engine.Store;

/// <summary>
/// The single-writer lock of a home. LiteDB's direct mode corrupts a file two processes write, so exactly one
/// process (host, run, resume) holds this exclusive lock on <c>posttrain.lock</c> while it has the database open.
/// The OS releases it when the process dies, even by SIGKILL. Owner details go to <c>posttrain.lock.json</c> for the message others see.
/// </summary>
public sealed class HomeLock : IDisposable
{
    private readonly FileStream _stream;
    private readonly PostTrainHome _home;

    private HomeLock(FileStream stream, PostTrainHome home)
    {
        _stream = stream;
        _home = home;
    }

    /// <summary>Takes the lock or throws <see cref="HomeLockedException"/> naming the owner.</summary>
    public static HomeLock Acquire(PostTrainHome home, string purpose)
    {
        FileStream stream;
        try
        {
            // FileShare.None is an exclusive flock on Unix: a second open fails in this and every other process.
            stream = new FileStream(home.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new HomeLockedException($"{home.DatabasePath} is in use by {DescribeOwner(home) ?? "another process"}; " +
                "only one process may write it. Stop that process, or use 'posttrain status'/'runs' (they read snapshots), " +
                "or talk to the running host over the bus (--bus rabbitmq://HOST).");
        }
        var info = new LockInfo(Environment.ProcessId, purpose, DateTime.UtcNow, Environment.MachineName);
        AtomicFile.WriteAllText(home.LockInfoPath, JsonSerializer.Serialize(info));
        return new HomeLock(stream, home);
    }

    /// <summary>"pid 1234 (host) on box since ..." or null if no owner is recorded.</summary>
    public static string? DescribeOwner(PostTrainHome home)
    {
        try
        {
            var info = JsonSerializer.Deserialize<LockInfo>(File.ReadAllText(home.LockInfoPath));
            return info is null ? null : $"pid {info.Pid} ({info.Purpose}) on {info.Machine} since {info.Since:u}";
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Throws <see cref="HomeLockedException"/> if this process no longer owns the home: its <c>posttrain.lock</c> was
    /// deleted, or replaced by another file (which another process may hold). Called before every write transaction.
    /// </summary>
    public void EnsureHeld()
    {
        if (LostBecause() is { } why)
            throw new HomeLockedException($"{_home.LockPath} {why} while pid {Environment.ProcessId} owned {_home.DatabasePath}; " +
                "its writes stopped so that two processes never write the database. Stop this process and start one owner again.");
    }

    private string? LostBecause()
    {
        if (!File.Exists(_home.LockPath)) return "was deleted";
        if (!OperatingSystem.IsLinux()) return null;
        // The descriptor we hold still names the lock file only if nobody unlinked or replaced it.
        var held = new FileInfo($"/proc/self/fd/{_stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
        return held is null || held == Path.GetFullPath(_home.LockPath) ? null : "was replaced by another file";
    }

    /// <summary>True if some process holds the lock now.</summary>
    public static bool IsHeld(PostTrainHome home)
    {
        try
        {
            using var s = new FileStream(home.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        try { File.Delete(_home.LockInfoPath); } catch (IOException) { }
        _stream.Dispose();
    }

    private sealed record LockInfo(int Pid, string Purpose, DateTime Since, string Machine);
}
