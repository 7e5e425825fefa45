namespace PostTrain.Engine.Definitions;

/// <summary>Workflow files a process knows: given paths, or <c>NAME.json</c> / files with <c>"id": NAME</c> in the workflow directories.</summary>
public sealed class WorkflowCatalog(IReadOnlyList<string> directories)
{
    public IReadOnlyList<string> Directories { get; } = directories;

    /// <summary>Loads a workflow by file path, by file name in a workflow directory, or by id.</summary>
    public WorkflowLoadResult Load(string nameOrPath)
    {
        if (File.Exists(nameOrPath)) return WorkflowLoader.LoadFile(nameOrPath);
        foreach (var dir in Directories.Where(Directory.Exists))
        {
            var candidate = Path.Combine(dir, nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? nameOrPath : nameOrPath + ".json");
            if (File.Exists(candidate)) return WorkflowLoader.LoadFile(candidate);
        }
        var byId = All().FirstOrDefault(r => r.Definition?.Id == nameOrPath);
        if (byId is not null) return byId;
        var searched = Directories.Count == 0 ? "no workflow directories" : string.Join(", ", Directories.Select(Path.GetFullPath));
        return new WorkflowLoadResult(null, [new WorkflowProblem("$", $"no workflow file '{nameOrPath}' (searched the path itself and {searched})")], nameOrPath);
    }

    /// <summary>Every *.json in the workflow directories, loaded (possibly with problems).</summary>
    public IEnumerable<WorkflowLoadResult> All() =>
        Directories.Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.json").Order(StringComparer.Ordinal))
            .Select(WorkflowLoader.LoadFile);
}
