using PostTrain.Cli.Rendering;
using PostTrain.Model.Data;
using PostTrain.Workflows.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Runtime;
using PostTrain.Workflows.Models;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Validation;

namespace PostTrain.Cli;

/// <summary>
/// What <c>posttrain sft</c>, <c>dpo</c> and <c>reward</c> share, as TRL's one-line trainers: check the data file as
/// <c>data import</c> does (every bad line, nothing run), take models by path, sha256: or name, run the shipped
/// one-training-activity workflow on the engine with a progress bar, then write its checkpoint to --out as a Hugging Face
/// directory (temp-then-rename).
/// </summary>
public static class OneLiner
{
    /// <summary>Checks an SFT JSONL file whole; null when good (errors printed).</summary>
    public static string? CheckSft(string file)
    {
        if (!File.Exists(file)) return $"--data: {file}: file not found";
        try { return SftDataset.Read(file).Count == 0 ? $"--data: {file}: no examples" : null; }
        catch (PreferenceImportException e) { return Report(e.Errors, file); }
    }

    /// <summary>Checks a preference JSONL (explicit prompt, HH-RLHF, UltraFeedback) whole; the pairs in PostTrain's layout, or errors printed.</summary>
    public static (IReadOnlyList<PreferencePair>? Pairs, string? Error) CheckPreferences(string file)
    {
        if (!File.Exists(file)) return (null, $"--data: {file}: file not found");
        var result = new PreferenceImporter().TryImport(file);
        if (!result.Succeeded) return (null, Report(result.Errors, file));
        return result.Pairs!.Count == 0 ? (null, $"--data: {file}: no preference pairs") : (result.Pairs, null);
    }

    private static string Report(IReadOnlyList<ImportError> errors, string file)
    {
        foreach (var e in errors) Console.Error.WriteLine(e);
        return $"{file}: {errors.Count} bad line(s); nothing was run";
    }

    /// <summary>
    /// Runs <paramref name="workflow"/> with the parameters <paramref name="bind"/> returns (it resolves models and stores
    /// data; an <see cref="ArgumentException"/> is a one-line error) and exports the run's checkpoint to <paramref name="outDir"/>.
    /// </summary>
    public static async Task<int> RunAsync(string workflow, string outDir, string? homeOption, bool json, long seed, string device,
        Func<ModelCatalog, ArtifactStore, Dictionary<string, string>> bind, CancellationToken ct)
    {
        if (File.Exists(outDir) || (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any()))
            return Output.Error($"--out: {outDir} exists and is not empty; give a new directory", CliApp.Usage);
        var home = PostTrainHome.Resolve(homeOption);
        var dirs = CliOptions.WorkflowDirectories(null, home).ToList();
        var source = Path.Combine(home.Root, "workflows", workflow + ".json");
        if (!dirs.Any(d => File.Exists(Path.Combine(d, workflow + ".json")))) EmbeddedWorkflows.WriteIfMissing(workflow, source);
        var load = new WorkflowCatalog(dirs).Load(workflow);
        var problems = WorkflowValidator.Validate(load, PostTrainApplication.Registry());
        if (problems.Count > 0)
        {
            foreach (var pr in problems) Console.Error.WriteLine(pr.Format(load.Source));
            return Output.Error($"{load.Source}: {problems.Count} problem(s); nothing was run");
        }

        LocalHost host;
        try { host = await LocalHost.StartAsync(home, Engine.Bus.BusSettings.InMemory, dirs, workflow, worker: true, resumeOnStart: false, device: device); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (host)
        {
            var artifacts = new ArtifactStore(home.Root);
            Dictionary<string, string> parameters;
            try { parameters = bind(new ModelCatalog(home.Root, artifacts), artifacts); }
            catch (ArgumentException e) { return Output.Error(e.Message); }
            Guid id;
            try { id = await host.Launcher.StartAsync(load.Source, parameters, seed); }
            catch (WorkflowInvalidException e) { return Output.Error(e.Message); }
            if (!json) Console.Error.WriteLine($"run {id} ({workflow}) started; home {home.Root}");
            RunSnapshot final;
            try { final = await RunProgressRenderer.FollowAsync(new Owner.LocalOwner(host), id, quiet: json, ct); }
            catch (OperationCanceledException) { return Output.Error($"interrupted; run {id} stays resumable: posttrain resume {id} --home {home.Root}"); }
            if (final.State != RunState.Succeeded)
            {
                if (json) Output.WriteJson(final); else RunPrinter.Print(final);
                return CliApp.Failure;
            }
            var checkpoint = RunOutputs.FinalCheckpoint(final.OutputsJson);
            if (checkpoint is null) return Output.Error($"run {id} ({workflow}) finished without a checkpoint output");
            string architecture;
            try { architecture = ModelExporter.Export(artifacts.PathOf(ArtifactRef.Parse(checkpoint)), outDir); }
            catch (ArgumentException e) { return Output.Error(e.Message); }
            var path = Path.GetFullPath(outDir);
            if (json) Output.WriteJson(new { runId = id, checkpoint, architecture, path, outputs = final.OutputsJson is null ? null : System.Text.Json.Nodes.JsonNode.Parse(final.OutputsJson) });
            else Console.Out.WriteLine($"run {id}: {checkpoint} written to {path} ({architecture})");
            return CliApp.Success;
        }
    }

    /// <summary>Stores preference pairs in PostTrain's layout (whatever layout they were imported from) and returns the reference.</summary>
    public static string StorePairs(ArtifactStore artifacts, IReadOnlyList<PreferencePair> pairs)
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"posttrain-pairs-{Guid.NewGuid():N}.jsonl");
        try
        {
            PreferenceDataset.Write(tmp, pairs);
            return artifacts.ImportFile(tmp).ToString();
        }
        finally { File.Delete(tmp); }
    }
}
