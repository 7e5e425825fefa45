using PostTrain.Model.Checkpoints;

namespace PostTrain.Cli;

/// <summary>The shipped workflows/*.json and workflows/presets/*.json, embedded so <c>posttrain iterate</c> works from any directory.</summary>
public static class EmbeddedWorkflows
{
    private const string Prefix = "workflows.";
    private const string PresetPrefix = "workflows.presets.";

    public static IReadOnlyList<string> Names => Resources(Prefix).Where(n => !n.StartsWith("presets.", StringComparison.Ordinal)).ToList();

    public static IReadOnlyList<string> Presets => Resources(PresetPrefix);

    /// <summary>
    /// Writes the embedded definition to <paramref name="path"/>, and the embedded presets to <c>presets/</c> beside it,
    /// unless a file is already there (a user's edit wins).
    /// </summary>
    public static void WriteIfMissing(string name, string path)
    {
        Write($"{Prefix}{name}.json", path, $"no embedded workflow '{name}'; embedded: {string.Join(", ", Names)}");
        WritePresetsIfMissing(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>The embedded presets into <c>DIR/presets/</c>, each unless already there (a home written by an older version has none).</summary>
    public static void WritePresetsIfMissing(string workflowsDirectory)
    {
        foreach (var preset in Presets)
            Write($"{PresetPrefix}{preset}.json", Path.Combine(workflowsDirectory, "presets", preset + ".json"), $"no embedded preset '{preset}'");
    }

    private static void Write(string resource, string path, string missing)
    {
        if (File.Exists(path)) return;
        using var stream = typeof(EmbeddedWorkflows).Assembly.GetManifestResourceStream(resource) ?? throw new ArgumentException(missing);
        using var reader = new StreamReader(stream);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, reader.ReadToEnd());
    }

    private static List<string> Resources(string prefix) =>
        typeof(EmbeddedWorkflows).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Select(n => n[prefix.Length..^".json".Length]).ToList();
}
