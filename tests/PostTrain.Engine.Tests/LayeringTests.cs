using System.Text.Json;
using PostTrain.Engine.Runtime;

namespace PostTrain.Engine.Tests;

/// <summary>The engine knows no model: nothing in its build or its restore may pull in TorchSharp or a model project.</summary>
public sealed class LayeringTests
{
    [Fact]
    public void EngineAssembly_ReferencesOnlyTheCoreOfPostTrain_AndNoTorch()
    {
        var refs = typeof(WorkflowEngine).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(refs, n => n.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase));
        Assert.All(refs.Where(n => n.StartsWith("PostTrain.", StringComparison.Ordinal)), n => Assert.Equal("PostTrain.Core", n));
    }

    [Fact]
    public void EngineRestore_HoldsNoTorchSharpAndNoModelProject()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PostTrain.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var assets = Path.Combine(dir.FullName, "src", "Engine", "obj", "project.assets.json");
        Assert.True(File.Exists(assets), $"{assets}: missing; restore src/Engine first");
        using var doc = JsonDocument.Parse(File.ReadAllText(assets));
        var libraries = doc.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
        Assert.NotEmpty(libraries);
        Assert.DoesNotContain(libraries, n => n.Contains("torch", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(libraries, n => n.StartsWith("PostTrain.", StringComparison.Ordinal) && !n.StartsWith("PostTrain.Core/", StringComparison.Ordinal));
    }
}
