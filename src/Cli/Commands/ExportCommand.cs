using System.CommandLine;
using PostTrain.Workflows.Models;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain export RUN|REF --out DIR</c>: writes a run's final model (or any checkpoint given by sha256:, name or
/// path) as a Hugging Face directory that <c>transformers</c> and PostTrain load.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "A run id (or unique prefix): its final model; or a checkpoint: sha256:…, a model name or a directory" };
        var outDir = new Option<string>("--out") { Description = "New directory to write", Required = true };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("export", "Write a run's final model or a checkpoint as a Hugging Face directory") { source, outDir, home, json };
        command.SetAction(p => Run(p.GetValue(source)!, p.GetValue(outDir)!, p.GetValue(home), p.GetValue(json)));
        return command;
    }

    public static int Run(string source, string outDir, string? homeOption, bool json)
    {
        var home = PostTrainHome.Resolve(homeOption);
        var catalog = ModelReferences.Catalog(homeOption);
        string reference = source;
        Guid? runId = null;
        if (!source.StartsWith(ArtifactRef.Prefix, StringComparison.Ordinal) && !Directory.Exists(source) && SnapshotReader.Find(home, source) is { } run)
        {
            if (run.State != RunState.Succeeded) return Output.Error($"run {run.Id} is {run.State}; only a succeeded run has a final model");
            reference = RunOutputs.FinalCheckpoint(run.OutputsJson) ?? "";
            if (reference.Length == 0) return Output.Error($"run {run.Id} ({run.WorkflowId}) has no checkpoint or best output to export");
            runId = run.Id;
        }
        string architecture;
        try { architecture = ModelExporter.Export(catalog.Locate(reference, runId is null ? "source" : $"run {runId}"), outDir); }
        catch (ArgumentException e) { return Output.Error(e.Message); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return Output.Error(e.Message); }
        var full = Path.GetFullPath(outDir);
        if (json) Output.WriteJson(new { run = runId, checkpoint = reference, architecture, path = full });
        else Console.Out.WriteLine($"{reference} written to {full} ({architecture})");
        return CliApp.Success;
    }
}
