using System.Diagnostics;
using System.Text;

namespace PostTrain.Cli.Tests.Support;

/// <summary>
/// Launches <c>dotnet posttrain.dll</c> from this test's own output directory (the Cli project is referenced, so the
/// binary and its dependencies are copied here) with a private home, working directory and environment.
/// </summary>
public static class Posttrain
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "posttrain.dll");

    /// <summary>The repository root (holds workflows/iterate.json), found upward from the test binary.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "workflows", "iterate.json")) && Directory.Exists(Path.Combine(d.FullName, "src")))
                    return d.FullName;
            throw new InvalidOperationException($"no repository root above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Test-only workflow files copied next to the test binary.</summary>
    public static string TestWorkflow(string name) => Path.Combine(AppContext.BaseDirectory, "Workflows", name);

    /// <summary>Starts a child; the caller disposes it (which kills it if still running).</summary>
    public static ChildProcess Start(string home, params string[] args) => StartIn(home, home, args);

    public static ChildProcess StartIn(string home, string workingDirectory, string[] args)
    {
        // Through env with SIGINT at its default: a suite started with `cmd &` from a non-interactive shell inherits SIGINT
        // ignored, the runtime keeps an inherited ignore, and a child would never see the Ctrl+C a test sends. env execs,
        // so the child's pid is the one the tests signal.
        var psi = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["POSTTRAIN_HOME"] = home;
        psi.Environment.Remove("POSTTRAIN_BUS");
        psi.Environment.Remove("PostTrain__Bus");
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["NO_COLOR"] = "1";
        // Busy-waiting OpenMP threads starve the other processes of a loaded 2-core machine.
        psi.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        psi.Environment["COLUMNS"] = "200";
        return new ChildProcess(Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start"), string.Join(' ', args));
    }

    /// <summary>Runs a command to its end; kills it and fails if it takes longer than <paramref name="timeout"/>.</summary>
    public static async Task<CliResult> RunAsync(string home, TimeSpan timeout, params string[] args)
    {
        using var child = Start(home, args);
        return await child.WaitAsync(timeout);
    }

    public static Task<CliResult> RunAsync(string home, params string[] args) => RunAsync(home, TimeSpan.FromMinutes(2), args);
}

public sealed record CliResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>A running posttrain child with its output collected line by line; disposing kills the whole tree.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TaskCompletionSource _outDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChildProcess(Process process, string description)
    {
        Process = process;
        Description = description;
        process.OutputDataReceived += (_, e) => { if (e.Data is null) _outDone.TrySetResult(); else lock (_out) _out.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is null) _errDone.TrySetResult(); else lock (_err) _err.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }
    public string Description { get; }
    public int Id => Process.Id;
    public bool HasExited => Process.HasExited;
    public string Stdout { get { lock (_out) return _out.ToString(); } }
    public string Stderr { get { lock (_err) return _err.ToString(); } }

    /// <summary>SIGKILL, no chance to clean up: what a power cut or the OOM killer does.</summary>
    public void KillHard()
    {
        if (Process.HasExited) return;
        try { Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        Process.WaitForExit(30_000);
    }

    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await Process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            KillHard();
            throw new TimeoutException($"posttrain {Description} did not finish in {timeout}; killed.\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}");
        }
        // The pipes close with the process; wait briefly for the last lines.
        await Task.WhenAny(Task.WhenAll(_outDone.Task, _errDone.Task), Task.Delay(5000));
        return new CliResult(Process.ExitCode, Stdout, Stderr, _clock.Elapsed);
    }

    public void Dispose()
    {
        KillHard();
        Process.Dispose();
    }
}
