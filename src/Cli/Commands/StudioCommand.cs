using System.CommandLine;
using PostTrain.Studio;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain studio</c>: the designer and run monitor in a browser. The process owns the home like
/// <c>posttrain host</c> (engine, bus consumers, a local worker) and serves the same workflow files.
/// Loopback by default; any other address needs the access token it prints.
/// </summary>
public static class StudioCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Listen URLs, ';'-separated; a non-loopback address requires an access token", DefaultValueFactory = _ => StudioOptions.DefaultUrl };
        var workflows = new Option<string?>("--workflows") { Description = "Directory of workflow files the designer lists and saves (default HOME/workflows, with the shipped workflows written there)" };
        var token = new Option<string?>("--token") { Description = $"Access token (default ${StudioOptions.TokenEnvironmentVariable}, else generated when needed)" };
        var requireToken = new Option<bool>("--require-token") { Description = "Require the token on loopback too" };
        var noWorker = new Option<bool>("--no-worker") { Description = "Do not run activities here (remote workers only)" };
        var device = CliOptions.Device("Device for the local worker: cpu | cuda");
        var home = CliOptions.Home();
        var bus = CliOptions.Bus();
        var command = new Command("studio", "Open PostTrain Studio: design workflows and watch runs in a browser (Ctrl+C stops)")
            { urls, home, workflows, token, requireToken, noWorker, device, bus };
        command.SetAction((p, ct) => RunAsync(p.GetValue(urls)!, p.GetValue(home), p.GetValue(workflows), p.GetValue(token), p.GetValue(requireToken),
            p.GetValue(noWorker), p.GetValue(device)!, p.GetValue(bus), ct, CliOptions.JsonOf(p)));
        return command;
    }

    public static async Task<int> RunAsync(string urls, string? homeOption, string? workflows, string? token, bool requireToken, bool noWorker, string device, string? busOption, CancellationToken ct, bool json = false)
    {
        BusSettings bus;
        try { bus = CliOptions.ResolveBus(busOption); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        var home = PostTrainHome.Resolve(homeOption);
        if (workflows is null)
        {
            // Started from anywhere, the studio shows the home's workflows: the shipped ones are written there once (a user's edit wins).
            workflows = Path.Combine(home.Root, "workflows");
            foreach (var name in EmbeddedWorkflows.Names) EmbeddedWorkflows.WriteIfMissing(name, Path.Combine(workflows, name + ".json"));
        }
        StudioHost studio;
        try
        {
            studio = StudioHost.Create(new StudioOptions
            {
                Urls = urls,
                Home = home.Root,
                WorkflowsDirectory = Path.GetFullPath(workflows),
                AccessToken = token,
                RequireToken = requireToken,
                Bus = bus,
                Worker = noWorker ? null : new WorkerOptions { Device = device },
                // With a shared broker, remote workers may still be running what was in flight; their heartbeats decide.
                EngineOptions = new EngineOptions { RedispatchRunningOnStart = bus.IsInMemory },
            });
        }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        catch (ArgumentException e) { return Output.Error($"--urls: {e.Message}", CliApp.Usage); }
        await using (studio)
        {
            try { await studio.StartAsync(ct); }
            catch (IOException e) { return Output.Error($"cannot listen on {urls}: {e.Message}"); }
            if (json)
                Output.WriteJson(new { urls = studio.Addresses.Select(a => $"{a}/").ToList(), token = studio.AccessToken, home = studio.Options.Home, workflows = studio.Options.WorkflowsDirectory, bus = bus.ToString() });
            else
            {
                foreach (var address in studio.Addresses)
                    Console.Out.WriteLine(studio.AccessToken is null ? $"PostTrain Studio: {address}/" : $"PostTrain Studio: {address}/?token={studio.AccessToken}");
                if (studio.AccessToken is not null)
                    Console.Out.WriteLine($"Off loopback every request needs the access token (Authorization: Bearer TOKEN): {studio.AccessToken}");
                Console.Out.WriteLine($"home {studio.Options.Home}; workflows {studio.Options.WorkflowsDirectory}; bus {bus}. Ctrl+C to stop.");
            }
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
        }
        return CliApp.Success;
    }
}
