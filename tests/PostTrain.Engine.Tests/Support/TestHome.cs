namespace PostTrain.Engine.Tests.Support;

/// <summary>A fresh PostTrain home in the temp directory, deleted afterwards.</summary>
public sealed class TestHome : IDisposable
{
    public TestHome()
    {
        Root = Path.Combine(Path.GetTempPath(), "posttrain-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Workflows);
    }

    public string Root { get; }
    public string Workflows => Path.Combine(Root, "workflows");

    public string WriteWorkflow(string name, string json)
    {
        var path = Path.Combine(Workflows, name + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    public string[] Executions()
    {
        var path = Path.Combine(Root, "executions.log");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
