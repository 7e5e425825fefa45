using System.Buffers.Binary;
using System.Diagnostics;
using PostTrain.Studio.Tests.Support;

namespace PostTrain.Studio.Tests.Browser;

/// <summary>build/screenshots.sh on a tiny run's home: the README's pictures come from the real CLI's studio.</summary>
[Collection("browser")]
public sealed class ScreenshotScriptTests
{
    private static string Cli => Path.Combine(RepositoryPaths.Root, "src", "Cli", "bin", "Release", "net10.0", "posttrain.dll");

    [ChromiumFact]
    public async Task ScreenshotScript_HomeWithAFinishedRun_WritesTheDesignerAndRunMonitorPictures()
    {
        Assert.True(File.Exists(Cli), $"{Cli} is missing: build the solution first (the script starts the CLI's studio)");
        var (root, home) = await TinyRunHomeAsync(run: true);
        try
        {
            var output = Path.Combine(root, "shots");
            var (code, text) = await RunScriptAsync(home, output);
            Assert.True(code == 0, $"build/screenshots.sh exited {code}:\n{text}");
            foreach (var (file, minHeight) in new[] { ("studio-designer.png", 1000), ("studio-run-monitor.png", 1000), ("studio-run-monitor-iterate.png", 1200) })
            {
                var path = Path.Combine(output, file);
                Assert.True(File.Exists(path), $"{file} was not written:\n{text}");
                var bytes = File.ReadAllBytes(path);
                Assert.Equal("\x89PNG", System.Text.Encoding.Latin1.GetString(bytes, 0, 4));
                Assert.Equal(1600, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
                Assert.True(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)) >= minHeight, $"{file} is only {BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20))} px high");
                Assert.True(bytes.Length > 30_000, $"{file} is {bytes.Length} bytes: a blank page?");
            }
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [ChromiumFact]
    public async Task ScreenshotScript_HomeWithoutAFinishedRun_FailsSayingSo()
    {
        Assert.True(File.Exists(Cli), $"{Cli} is missing: build the solution first (the script starts the CLI's studio)");
        var (root, home) = await TinyRunHomeAsync(run: false);
        try
        {
            var (code, text) = await RunScriptAsync(home, Path.Combine(root, "shots"));
            Assert.NotEqual(0, code);
            Assert.Contains("has no succeeded run", text);
            Assert.False(File.Exists(Path.Combine(root, "shots", "studio-designer.png")));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    /// <summary>A home as a person leaves it: iterate.json among its workflows, and (or not) a finished tiny-loop run; no process owns it.</summary>
    private static async Task<(string Root, string Home)> TinyRunHomeAsync(bool run)
    {
        string root;
        await using (var studio = await TestStudio.StartAsync(keepRoot: true))
        {
            root = studio.Root;
            if (run) await studio.RunToEndAsync("tiny-loop", new { rounds = 2 });
        }
        var home = Path.Combine(root, "home");
        Directory.CreateDirectory(Path.Combine(home, "workflows"));
        File.Copy(Path.Combine(RepositoryPaths.Workflows, "iterate.json"), Path.Combine(home, "workflows", "iterate.json"));
        return (root, home);
    }

    private static async Task<(int Code, string Output)> RunScriptAsync(string home, string output)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryPaths.Root, "build", "screenshots.sh"), home, output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["POSTTRAIN_CLI"] = Cli },
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
        return (process.ExitCode, await stdout + await stderr);
    }
}
