using System.Text.Json;
using PostTrain.Core.Files;
using PostTrain.Core.Processes;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Hosting;

/// <summary>
/// <c>HOME/owner.json</c>: where the process that owns a home serves its API (a loopback URL and the token every
/// request needs), so other <c>posttrain</c> commands on that home talk to it instead of failing on the lock.
/// Written atomically once the server listens, removed when the owner stops; a file left by an owner that died
/// (SIGKILL, power cut) is recognised by its pid and by the home's lock no longer being held, and removed.
/// </summary>
public static class OwnerFile
{
    public const string FileName = "owner.json";

    /// <summary>What a client needs to reach the owner.</summary>
    public sealed record Info(int Pid, string Url, string Token, string Purpose, string Machine, DateTime Since)
    {
        public string Describe() => $"pid {Pid} ({Purpose}) on {Machine}";
    }

    public static string PathOf(PostTrainHome home) => Path.Combine(home.Root, FileName);

    public static void Write(PostTrainHome home, Info info) => AtomicFile.WriteAllText(PathOf(home), JsonSerializer.Serialize(info));

    /// <summary>Removes the file if it is <paramref name="pid"/>'s: a later owner's file stays.</summary>
    public static void Remove(PostTrainHome home, int pid)
    {
        if (TryRead(home) is { } info && info.Pid != pid) return;
        try { File.Delete(PathOf(home)); } catch (IOException) { }
    }

    /// <summary>
    /// The live owner of <paramref name="home"/> on this machine, or null: no file, or a stale one (its process is
    /// gone, or nobody holds the lock), which is deleted so the next long-running process becomes the owner.
    /// </summary>
    public static Info? Find(PostTrainHome home)
    {
        var info = TryRead(home);
        if (info is null) return null;
        // Another machine's owner of a shared home serves loopback only: unreachable from here, but not stale.
        if (!string.Equals(info.Machine, Environment.MachineName, StringComparison.Ordinal)) return null;
        if (LocalProcess.IsRunning(info.Pid) && HomeLock.IsHeld(home)) return info;
        Remove(home, info.Pid);
        return null;
    }

    private static Info? TryRead(PostTrainHome home)
    {
        try { return File.Exists(PathOf(home)) ? JsonSerializer.Deserialize<Info>(File.ReadAllText(PathOf(home))) : null; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }
}
