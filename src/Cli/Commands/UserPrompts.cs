using PostTrain.Cli.Owner;
using PostTrain.Model.Prompts;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary>
/// Resolves <c>iterate --prompts FILE|REF|NAME</c> to a stored prompts dataset (a file is imported first, all or
/// nothing) and checks it against the verifier before any run starts, so a bad line or an answer the verifier
/// cannot read fails the command with its FILE:LINE, not a run after pretraining.
/// </summary>
internal static class UserPrompts
{
    /// <param name="Verifier">The verifier that will check the prompts (the given one, or the one chosen from the rows).</param>
    public sealed record Resolution(string? Artifact, string? Error, string? Verifier = null);

    /// <param name="owner">The home's owner, which records an imported file (this process's engine or another's).</param>
    public static async Task<Resolution> ResolveAsync(IHomeOwner owner, ArtifactStore artifacts, string prompts, string? verifier, bool json)
    {
        var datasets = (await owner.DatasetsAsync()).Where(d => d.Kind == DataCommand.Prompts).ToList();
        string artifact, source = prompts;
        if (prompts.StartsWith("sha256:", StringComparison.Ordinal))
        {
            if (!artifacts.Exists(ArtifactRef.Parse(prompts))) return new(null, $"--prompts: {prompts} is not in the artifact store under {artifacts.Root}");
            if (!datasets.Any(d => d.Artifact == prompts)) return new(null, $"--prompts: {prompts} is not an imported prompts dataset; import one with posttrain data import FILE --kind prompts");
            artifact = prompts;
        }
        else if (File.Exists(prompts))
        {
            var staged = Path.Combine(Path.GetTempPath(), $"posttrain-prompts-{Guid.NewGuid():N}.jsonl");
            try
            {
                var result = PromptImporter.Import(Path.GetFullPath(prompts), staged);
                if (!result.Succeeded)
                {
                    foreach (var e in result.Errors) Console.Error.WriteLine(e with { File = prompts });
                    if (result.ErrorCount > result.Errors.Count) Console.Error.WriteLine($"... and {result.ErrorCount - result.Errors.Count} more");
                    return new(null, $"{prompts}: {(result.ErrorCount == 0 ? "no prompts" : $"{result.ErrorCount} bad line(s)")}; nothing was run");
                }
                artifact = artifacts.ImportFile(staged).ToString();
                await owner.RecordDatasetAsync(new DatasetRecord { Id = Guid.NewGuid(), Kind = DataCommand.Prompts, Artifact = artifact, Records = result.Rows, Source = Path.GetFullPath(prompts), At = DateTime.UtcNow });
                if (!json) Console.Error.WriteLine($"{prompts}: {result.Rows} prompts imported ({result.HeldOut} held out by prompt hash) as {artifact}");
            }
            finally { File.Delete(staged); }
        }
        else if (datasets.LastOrDefault(d => d.Name == prompts) is { } named)
        {
            artifact = named.Artifact;
            source = named.Source;
        }
        else return new(null, $"--prompts: '{prompts}' is neither a file, a sha256: reference nor the name of an imported prompts dataset");

        TaskSet set;
        try { set = PromptFileSource.Open(artifacts.PathOf(ArtifactRef.Parse(artifact)), verifier, source).CreateTaskSet(new TaskSetOptions()); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException) { return new(null, e.Message); }
        return new(artifact, null, set.Verifier);
    }
}
