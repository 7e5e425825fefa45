namespace PostTrain.Cli.Tests.Support;

/// <summary>A fresh PostTrain home under the temp directory, deleted afterwards (kept with POSTTRAIN_TEST_KEEP=1).</summary>
public sealed class TempHome : IDisposable
{
    public TempHome(string tag)
    {
        Root = Path.Combine(Path.GetTempPath(), $"posttrain-cli-{tag}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }
    public string Runs => Path.Combine(Root, "runs");
    public string Staging => Path.Combine(Root, "artifacts", "staging");

    public override string ToString() => Root;

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("POSTTRAIN_TEST_KEEP") == "1") return;
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
