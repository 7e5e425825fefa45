using PostTrain.Model.Checkpoints;

namespace PostTrain.Cli;

/// <summary>The shipped workflows/*.json, embedded so <c>posttrain iterate</c> works from any directory.</summary>
public static class EmbeddedWorkflows
{
    public static IReadOnlyList<string> Names =>
        typeof(EmbeddedWorkflows).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("workflows.", StringComparison.Ordinal))
            .Select(n => n["workflows.".Length..^".json".Length]).ToList();

    /// <summary>Writes the embedded definition to <paramref name="path"/> unless a file is already there (a user's edit wins).</summary>
    public static void WriteIfMissing(string name, string path)
    {
        if (File.Exists(path)) return;
        using var stream = typeof(EmbeddedWorkflows).Assembly.GetManifestResourceStream($"workflows.{name}.json")
            ?? throw new ArgumentException($"no embedded workflow '{name}'; embedded: {string.Join(", ", Names)}");
        using var reader = new StreamReader(stream);
        AtomicFile.WriteAllText(path, reader.ReadToEnd());
    }
}
