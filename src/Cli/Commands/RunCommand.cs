using System.CommandLine;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Cli.Owner;
using PostTrain.Cli.Rendering;
using PostTrain.Workflows.Activities;
using PostTrain.Engine.Bus;
using PostTrain.Workflows.Contracts;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Runtime;
using PostTrain.Workflows.Hosting;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Validation;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain run WORKFLOW [--param k=v]...</c>: validates, runs in this process or on the home's owner (a studio or host), shows progress.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var workflow = new Argument<string>("workflow") { Description = "Workflow file, or the name of one in the workflow directories" };
        var param = new Option<string[]>("--param", "-p") { Description = "Parameter as name=value (repeatable)" };
        var seed = new Option<long>("--seed") { Description = "Run seed: same definition + parameters + seed = same outputs", DefaultValueFactory = _ => 0 };
        var device = CliOptions.Device("Device for this process's worker: cpu | cuda");
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var bus = CliOptions.Bus();
        var workflows = CliOptions.Workflows();
        var command = new Command("run", "Run a workflow and follow it to the end") { workflow, param, seed, device, home, json, bus, workflows };
        command.SetAction((p, ct) => RunAsync(p.GetValue(workflow)!, p.GetValue(param) ?? [], p.GetValue(seed), p.GetValue(device)!, p.GetValue(home), p.GetValue(json), p.GetValue(bus), p.GetValue(workflows), ct));
        return command;
    }

    public static async Task<int> RunAsync(string workflow, string[] rawParams, long seed, string device, string? homeOption, bool json, string? busOption, string[]? workflowDirs, CancellationToken ct)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in rawParams)
        {
            var eq = kv.IndexOf('=');
            if (eq <= 0) return Output.Error($"--param '{kv}': expected name=value", CliApp.Usage);
            parameters[kv[..eq]] = kv[(eq + 1)..];
        }
        BusSettings busSettings;
        try { busSettings = CliOptions.ResolveBus(busOption); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        var home = PostTrainHome.Resolve(homeOption);
        var dirs = CliOptions.WorkflowDirectories(workflowDirs, home);

        // A shipped workflow (scaling-law, pretrain, ...) runs from any directory, as iterate does: its embedded copy
        // goes to HOME/workflows unless a file of that name is found first.
        if (EmbeddedWorkflows.Names.Contains(workflow) && !dirs.Any(d => File.Exists(Path.Combine(d, workflow + ".json"))))
            EmbeddedWorkflows.WriteIfMissing(workflow, Path.Combine(home.Root, "workflows", workflow + ".json"));
        // Check everything before touching the home, so a bad file or parameter fails fast and names the field.
        var catalog = new WorkflowCatalog(dirs);
        var load = catalog.Load(workflow);
        var problems = WorkflowValidator.Validate(load, PostTrainApplication.Registry());
        if (problems.Count > 0)
        {
            foreach (var pr in problems) Console.Error.WriteLine(pr.Format(load.Source));
            return Output.Error($"{load.Source}: {problems.Count} problem(s); nothing was run");
        }
        try { ModelReferences.Catalog(homeOption).ResolveParameters(load.Definition!, parameters); }
        catch (ArgumentException e) { return Output.Error(e.Message); }
        var (_, bindErrors) = ParameterBinder.Bind(load.Definition!, parameters);
        if (bindErrors.Count > 0)
        {
            foreach (var e in bindErrors) Console.Error.WriteLine($"{load.Source}: {e}");
            return Output.Error($"{load.Source}: bad parameters; nothing was run");
        }

        // With --bus and an owner, the run is handed over the broker and not followed (the owner may be on another
        // machine, reachable only through the broker): the id is printed for `posttrain status`.
        if (!busSettings.IsInMemory && HomeLock.IsHeld(home))
            return await SubmitAsync(home, busSettings, load.Source, parameters, seed, json);

        // With a studio or host open on this home, the run goes to it; otherwise this process owns the home.
        IHomeOwner owner;
        try { owner = await OwnerConnection.OpenAsync(home, () => LocalHost.StartAsync(home, busSettings, dirs, "run", worker: true, resumeOnStart: false, device: device, serve: true), ct, device); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (owner)
        {
            Guid id;
            try { id = await owner.StartRunAsync(load.Source, parameters, seed, reportByCaller: false); }
            catch (WorkflowInvalidException e) { return Output.Error(e.Message); }
            if (!json) Console.Error.WriteLine($"run {id} ({load.Definition!.Id}) started; home {home.Root}{(owner.Remote is { } remote ? $", owned by {remote}" : "")}");
            RunSnapshot final;
            try { final = await RunProgressRenderer.FollowAsync(owner, id, quiet: json, ct); }
            catch (OperationCanceledException) { return await OwnerConnection.InterruptedAsync(owner, id, home); }
            if (json) Output.WriteJson(final);
            else RunPrinter.Print(final);
            return final.State == RunState.Succeeded ? CliApp.Success : CliApp.Failure;
        }
    }

    private static async Task<int> SubmitAsync(PostTrainHome home, BusSettings bus, string workflow, Dictionary<string, string> parameters, long seed, bool json)
    {
        using var client = PostTrainHostFactory.Build(new PostTrainHostOptions { Home = home.Root, Bus = bus, Engine = false, Worker = null, Purpose = "run (client)" });
        await client.StartAsync();
        var id = Guid.NewGuid();
        var endpoint = await client.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{client.Services.GetRequiredService<BusTopology>().EngineQueue}"));
        await endpoint.Send(new RunRequested { RunId = id, Workflow = Path.GetFullPath(workflow), Parameters = parameters, Seed = seed });
        await client.StopAsync();
        if (json) Output.WriteJson(new { runId = id, submitted = true, owner = HomeLock.DescribeOwner(home) });
        else Console.Out.WriteLine($"submitted run {id} to {HomeLock.DescribeOwner(home)}; follow it with: posttrain status {id}");
        return CliApp.Success;
    }
}
