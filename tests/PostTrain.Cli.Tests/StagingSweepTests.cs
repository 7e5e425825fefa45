using System.Diagnostics;
using PostTrain.Cli.Tests.Support;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Tests;

/// <summary>What a SIGKILL in the middle of storing an artifact leaves behind is removed by the next process on the home.</summary>
public sealed class StagingSweepTests
{
    [Fact]
    public async Task ArtifactStore_LeftoverOfDeadProcess_SweptAndLiveOneKept()
    {
        using var home = new TempHome("sweep");
        var staging = Path.Combine(home.Root, "artifacts", "staging");
        Directory.CreateDirectory(staging);
        // A process that has certainly exited: its pid names the leftover.
        using var gone = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
        await gone.StandardOutput.ReadToEndAsync();
        await gone.WaitForExitAsync();
        var dead = Path.Combine(staging, $"{gone.Id}-{Guid.NewGuid():N}-{Environment.MachineName}");
        Directory.CreateDirectory(dead);
        await File.WriteAllBytesAsync(Path.Combine(dead, "model.safetensors"), new byte[100]);   // half a checkpoint
        var deadFile = Path.Combine(staging, $"{gone.Id}-{Guid.NewGuid():N}-{Environment.MachineName}");
        await File.WriteAllBytesAsync(deadFile, new byte[10]);
        var live = Path.Combine(staging, $"{Environment.ProcessId}-{Guid.NewGuid():N}-{Environment.MachineName}");
        Directory.CreateDirectory(live);
        var otherMachine = Path.Combine(staging, $"{gone.Id}-{Guid.NewGuid():N}-some-other-machine");
        Directory.CreateDirectory(otherMachine);

        _ = new ArtifactStore(home.Root);

        Assert.False(Directory.Exists(dead), "a dead process's staging directory survived");
        Assert.False(File.Exists(deadFile), "a dead process's staging file survived");
        Assert.True(Directory.Exists(live), "a running process's staging entry was deleted");
        Assert.True(Directory.Exists(otherMachine), "another machine's staging entry was deleted");
    }
}
