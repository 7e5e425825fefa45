namespace PostTrain.Core.Processes;

/// <summary>Whether a process of this machine still runs: decides whether a dead writer's leftovers may be swept.</summary>
public static class LocalProcess
{
    public static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
