using System.CommandLine;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Cli.Owner;
using PostTrain.Engine.Bus;
using PostTrain.Model.Data;
using PostTrain.Model.Prompts;
using PostTrain.Workflows.Contracts;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Triggers;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain data import FILE --kind prompts|preferences|sft [--name NAME] [--notify]</c>: checks a JSONL file (every
/// bad line reported with FILE:LINE: field: reason, at most 20 printed) and stores it as a dataset, all or nothing; or
/// with <c>--notify</c> hands a preference batch to the running host as <see cref="PreferenceDataArrived"/>, which stores
/// it and starts every workflow bound to that trigger.
/// </summary>
public static class DataCommand
{
    public const string Prompts = "prompts", Preferences = "preferences", Sft = "sft";

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "JSONL file" };
        var kind = new Option<string>("--kind") { Description = "prompts (prompt, messages, GSM8K, MATH, multiple choice, TRL prompt-only) | preferences | sft", DefaultValueFactory = _ => Preferences };
        kind.AcceptOnlyFromAmong(Prompts, Preferences, Sft);
        var name = new Option<string>("--name") { Description = "A name to refer to the dataset by (e.g. iterate --prompts NAME)" };
        var notify = new Option<bool>("--notify") { Description = "Publish PreferenceDataArrived to the host (needs --bus rabbitmq://...) instead of storing here" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var bus = CliOptions.Bus();
        var import = new Command("import", "Validate and store a dataset (prompts, preference pairs or SFT examples), or notify the host of a preference batch") { file, kind, name, notify, home, json, bus };
        import.SetAction((p, ct) => ImportAsync(p.GetValue(file)!, p.GetValue(notify), p.GetValue(home), p.GetValue(json), p.GetValue(bus), p.GetValue(kind)!, p.GetValue(name)));
        return new Command("data", "Datasets: import prompts, preference batches and SFT examples") { import };
    }

    public static async Task<int> ImportAsync(string file, bool notify, string? homeOption, bool json, string? busOption, string kind = Preferences, string? name = null)
    {
        BusSettings bus;
        try { bus = CliOptions.ResolveBus(busOption); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        if (notify && bus.IsInMemory)
            return Output.Error("--notify publishes to a running host over a shared bus: pass --bus rabbitmq://HOST (or set POSTTRAIN_BUS)", CliApp.Usage);
        if (notify && kind != Preferences) return Output.Error($"--notify: only preference batches are published; --kind is {kind}", CliApp.Usage);
        var path = Path.GetFullPath(file);
        if (!File.Exists(path)) return Output.Error($"{file}: file not found");
        var home = PostTrainHome.Resolve(homeOption);
        if (kind == Prompts) return await ImportPromptsAsync(file, path, home, name, json);
        var (verdict, errorCount) = kind == Sft ? CheckSft(path, file) : CheckPreferences(path, file);
        if (!verdict.IsValid)
        {
            PrintErrors(verdict.Errors, errorCount);
            return Output.Error($"{file}: {(errorCount == 0 ? $"no {kind} rows" : $"{errorCount} bad line(s)")}; nothing was stored");
        }
        var batch = Guid.NewGuid();
        if (notify)
        {
            using var client = PostTrainHostFactory.Build(new PostTrainHostOptions { Home = home.Root, Bus = bus, Engine = false, Worker = null, Purpose = "data import (client)" });
            await client.StartAsync();
            await client.Services.GetRequiredService<IBus>().Publish(new PreferenceDataArrived { BatchId = batch, FilePath = path, Source = file, At = DateTime.UtcNow });
            await client.StopAsync();
            if (json) Output.WriteJson(new { batchId = batch, pairs = verdict.Pairs, notified = true });
            else Console.Out.WriteLine($"{file}: {verdict.Pairs} pairs; published PreferenceDataArrived (batch {batch}) on {bus}");
            return CliApp.Success;
        }
        return await StoreAsync(home, path, null, kind, name, verdict.Pairs, json, file, extra: null);
    }

    private static async Task<int> ImportPromptsAsync(string file, string path, PostTrainHome home, string? name, bool json)
    {
        var staged = Path.Combine(Path.GetTempPath(), $"posttrain-prompts-{Guid.NewGuid():N}.jsonl");
        try
        {
            var result = PromptImporter.Import(path, staged);
            if (!result.Succeeded)
            {
                PrintErrors(result.Errors.Select(e => (e with { File = file }).ToString()).ToList(), result.ErrorCount);
                return Output.Error($"{file}: {(result.ErrorCount == 0 ? "no prompts" : $"{result.ErrorCount} bad line(s)")}; nothing was stored");
            }
            var summary = $"{result.HeldOut} held out by prompt hash, {result.WithAnswer} with a reference answer, {result.Duplicates} duplicate(s) dropped; layouts {string.Join(", ", result.Labels.Select(kv => $"{kv.Key} {kv.Value}"))}";
            return await StoreAsync(home, path, staged, Prompts, name, result.Rows, json, file, new { heldOut = result.HeldOut, withAnswer = result.WithAnswer, duplicates = result.Duplicates, layouts = result.Labels }, summary);
        }
        finally { File.Delete(staged); }
    }

    /// <summary>Stores <paramref name="stored"/> (or the file itself) as an artifact and records the dataset, in the home's one writer.</summary>
    private static async Task<int> StoreAsync(PostTrainHome home, string path, string? stored, string kind, string? name, int rows, bool json, string file, object? extra, string? summary = null)
    {
        // A studio or host serving this home records the dataset; otherwise this process does, as the home's one writer.
        IHomeOwner owner;
        if (OwnerClient.Find(home) is { } client) owner = client;
        else
        {
            if (HomeLock.IsHeld(home))
                return Output.Error($"{home.DatabasePath} is owned by {HomeLock.DescribeOwner(home) ?? "another process"}; hand the batch to it with --notify --bus rabbitmq://HOST");
            try { owner = new LocalOwner(await LocalHost.StartAsync(home, BusSettings.InMemory, [], "data import", worker: false)); }
            catch (HomeLockedException e) { return Output.Error(e.Message); }
        }
        await using (owner)
        {
            var artifact = new ArtifactStore(home.Root).ImportFile(stored ?? path);
            var id = Guid.NewGuid();
            await owner.RecordDatasetAsync(new DatasetRecord { Id = id, Kind = kind, Name = name ?? "", Artifact = artifact.ToString(), Records = rows, Source = path, At = DateTime.UtcNow });
            if (json) Output.WriteJson(new { artifact = artifact.ToString(), kind, rows, datasetId = id, name, pairs = kind == Preferences ? rows : (int?)null, details = extra });
            else Console.Out.WriteLine($"{file}: {rows} {(kind == Preferences ? "pairs" : kind == Sft ? "SFT examples" : "prompts")} stored as dataset {id}{(string.IsNullOrEmpty(name) ? "" : $" '{name}'")} ({artifact}){(summary is null ? "" : $"; {summary}")}");
        }
        return CliApp.Success;
    }

    /// <summary>The file itself, streamed once with no pair kept: memory does not grow with the file or its bad lines.</summary>
    private static (PreferenceBatchValidation, int) CheckPreferences(string path, string file)
    {
        var (pairs, errors, count) = new PreferenceImporter().Check(path, PromptImporter.MaxReportedErrors);
        return (new PreferenceBatchValidation(count > 0 ? 0 : pairs, [.. errors.Select(e => (e with { File = file }).ToString())]), count);
    }

    /// <summary>SFT examples are checked the same way: one streaming pass, no example kept, at most 20 errors.</summary>
    private static (PreferenceBatchValidation, int) CheckSft(string path, string file)
    {
        var (examples, errors, count) = SftDataset.Check(path, PromptImporter.MaxReportedErrors);
        return (new PreferenceBatchValidation(count > 0 ? 0 : examples, [.. errors.Select(e => (e with { File = file }).ToString())]), count);
    }

    private static void PrintErrors(IReadOnlyList<string> errors, int total)
    {
        foreach (var e in errors.Take(PromptImporter.MaxReportedErrors)) Console.Error.WriteLine(e);
        if (total > PromptImporter.MaxReportedErrors) Console.Error.WriteLine($"... and {total - PromptImporter.MaxReportedErrors} more");
    }
}
