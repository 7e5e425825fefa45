namespace PostTrain.Studio.Tests.Support;

/// <summary>Paths in the repository this test build came from (found by walking up to PostTrain.sln).</summary>
public static class RepositoryPaths
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "PostTrain.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException($"no PostTrain.sln above {AppContext.BaseDirectory}");
        }
    }

    public static string Workflows => Path.Combine(Root, "workflows");

    /// <summary>Set POSTTRAIN_DOCS_SCREENSHOTS=1 to refresh docs/*.png from the browser tests.</summary>
    public static bool RefreshDocs => Environment.GetEnvironmentVariable("POSTTRAIN_DOCS_SCREENSHOTS") == "1";

    public static string Docs => Path.Combine(Root, "docs");
}
