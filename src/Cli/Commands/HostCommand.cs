using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain host</c>: the long-running owner of a home: engine, bus consumers, triggers, and a local worker.</summary>
public static class HostCommand
{
    public static Command Create()
    {
        var noWorker = new Option<bool>("--no-worker") { Description = "Do not run activities here (remote workers only)" };
        var device = CliOptions.Device("Device for the local worker: cpu | cuda");
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var bus = CliOptions.Bus();
        var workflows = CliOptions.Workflows();
        var deployment = CliOptions.Deployment();
        var heartbeatTimeout = CliOptions.HeartbeatTimeout();
        var artifactPort = CliOptions.ArtifactPort();
        var artifactHost = CliOptions.ArtifactHost();
        var command = new Command("host", "Run the engine and bus consumers until stopped (Ctrl+C)") { noWorker, device, home, json, bus, workflows, deployment, heartbeatTimeout, artifactPort, artifactHost };
        command.SetAction((p, ct) => RunAsync(p.GetValue(noWorker), p.GetValue(device)!, p.GetValue(home), p.GetValue(json), p.GetValue(bus), p.GetValue(workflows), ct, p.GetValue(deployment), p.GetValue(heartbeatTimeout), p.GetValue(artifactPort), p.GetValue(artifactHost)));
        return command;
    }

    public static async Task<int> RunAsync(bool noWorker, string device, string? homeOption, bool json, string? busOption, string[]? workflowDirs, CancellationToken ct, string? deployment = null, double? heartbeatSeconds = null, int? artifactPort = null, string? artifactHost = null)
    {
        BusSettings bus;
        TimeSpan? heartbeatTimeout;
        try { bus = CliOptions.ResolveBus(busOption, deployment); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        try { heartbeatTimeout = CliOptions.ResolveHeartbeatTimeout(heartbeatSeconds); }
        catch (ArgumentException e) { return Output.Error(e.Message, CliApp.Usage); }
        Engine.Artifacts.ArtifactServerOptions artifacts;
        try { artifacts = CliOptions.ResolveArtifactServer(artifactPort, artifactHost); }
        catch (ArgumentException e) { return Output.Error(e.Message, CliApp.Usage); }
        var home = PostTrainHome.Resolve(homeOption);
        LocalHost host;
        try { host = await LocalHost.StartAsync(home, bus, CliOptions.WorkflowDirectories(workflowDirs, home), "host", worker: !noWorker, resumeOnStart: true, device: device, heartbeatTimeout: heartbeatTimeout, serve: true, artifacts: artifacts); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (host)
        {
            var topology = host.Host.Services.GetRequiredService<BusTopology>();
            if (json) Output.WriteJson(new { pid = Environment.ProcessId, home = home.Root, bus = bus.ToString(), deployment = topology.Deployment, worker = !noWorker, artifacts = host.ArtifactUrl?.AbsoluteUri });
            else Console.Out.WriteLine($"host pid {Environment.ProcessId} owns {home.Root}; bus {bus}, deployment {topology.Deployment}; {(noWorker ? "no local worker" : "local worker on cpu+gpu pools")}"
                + (host.ArtifactUrl is { } url ? $"; artifacts served at {url}" : "") + ". Ctrl+C to stop.");
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
        }
        return CliApp.Success;
    }
}
