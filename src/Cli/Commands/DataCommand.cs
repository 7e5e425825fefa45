using System.CommandLine;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Engine.Bus;
using PostTrain.Workflows.Contracts;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Triggers;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain data import FILE [--notify]</c>: checks a preference JSONL file (every bad line reported) and stores it
/// as a dataset, or with <c>--notify</c> hands it to the running host as <see cref="PreferenceDataArrived"/>, which
/// stores it and starts every workflow bound to that trigger.
/// </summary>
public static class DataCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Preference pairs, JSONL" };
        var notify = new Option<bool>("--notify") { Description = "Publish PreferenceDataArrived to the host (needs --bus rabbitmq://...) instead of storing here" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var bus = CliOptions.Bus();
        var import = new Command("import", "Validate and store a preference batch, or notify the host of it") { file, notify, home, json, bus };
        import.SetAction((p, ct) => ImportAsync(p.GetValue(file)!, p.GetValue(notify), p.GetValue(home), p.GetValue(json), p.GetValue(bus)));
        return new Command("data", "Datasets: import preference batches") { import };
    }

    public static async Task<int> ImportAsync(string file, bool notify, string? homeOption, bool json, string? busOption)
    {
        BusSettings bus;
        try { bus = CliOptions.ResolveBus(busOption); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        if (notify && bus.IsInMemory)
            return Output.Error("--notify publishes to a running host over a shared bus: pass --bus rabbitmq://HOST (or set POSTTRAIN_BUS)", CliApp.Usage);
        var path = Path.GetFullPath(file);
        if (!File.Exists(path)) return Output.Error($"{file}: file not found");
        var verdict = new PreferenceImporterValidator().Validate(await File.ReadAllTextAsync(path), file);
        if (!verdict.IsValid)
        {
            foreach (var e in verdict.Errors) Console.Error.WriteLine(e);
            return Output.Error($"{file}: {(verdict.Errors.Count == 0 ? "no preference pairs" : $"{verdict.Errors.Count} bad line(s)")}; nothing was stored");
        }
        var home = PostTrainHome.Resolve(homeOption);
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
        if (HomeLock.IsHeld(home))
            return Output.Error($"{home.DatabasePath} is owned by {HomeLock.DescribeOwner(home) ?? "another process"}; hand the batch to it with --notify --bus rabbitmq://HOST");
        LocalHost host;
        try { host = await LocalHost.StartAsync(home, BusSettings.InMemory, [], "data import", worker: false); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (host)
        {
            var artifacts = host.Host.Services.GetRequiredService<ArtifactStore>();
            var artifact = artifacts.ImportFile(path);
            host.Engine.RecordDataset(new DatasetRecord { Id = batch, Kind = "preferences", Artifact = artifact.ToString(), Records = verdict.Pairs, Source = path, At = DateTime.UtcNow });
            if (json) Output.WriteJson(new { datasetId = batch, artifact = artifact.ToString(), pairs = verdict.Pairs });
            else Console.Out.WriteLine($"{file}: {verdict.Pairs} pairs stored as dataset {batch} ({artifact})");
        }
        return CliApp.Success;
    }
}
