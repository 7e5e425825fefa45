using System.CommandLine;
using PostTrain.Cli.Owner;
using PostTrain.Cli.Rendering;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain resume RUN</c>: continues an interrupted (or failed) run from its last completed steps.</summary>
public static class ResumeCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "Run id or unique prefix" };
        var device = CliOptions.Device("Device for this process's worker: cpu | cuda");
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var bus = CliOptions.Bus();
        var workflows = CliOptions.Workflows();
        var command = new Command("resume", "Continue a run; completed steps are not redone") { run, device, home, json, bus, workflows };
        command.SetAction((p, ct) => RunAsync(p.GetValue(run)!, p.GetValue(device)!, p.GetValue(home), p.GetValue(json), p.GetValue(bus), p.GetValue(workflows), ct));
        return command;
    }

    public static async Task<int> RunAsync(string runText, string device, string? homeOption, bool json, string? busOption, string[]? workflowDirs, CancellationToken ct)
    {
        BusSettings bus;
        try { bus = CliOptions.ResolveBus(busOption); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        var home = PostTrainHome.Resolve(homeOption);
        var snap = SnapshotReader.Find(home, runText);
        if (snap is null) return Output.Error($"no run '{runText}' in {home.RunsDirectory}");
        IHomeOwner owner;
        try { owner = await OwnerConnection.OpenAsync(home, () => LocalHost.StartAsync(home, bus, CliOptions.WorkflowDirectories(workflowDirs, home), "resume", worker: true, resumeOnStart: false, device: device, serve: true), ct, device); }
        catch (HomeLockedException)
        {
            // An owner that serves no API picks the request up from HOME/control/ on its next tick.
            ControlRequests.RequestResume(home, snap.Id);
            if (json) Output.WriteJson(new { id = snap.Id, resumeRequested = true, owner = HomeLock.DescribeOwner(home) });
            else Console.Out.WriteLine($"asked the owner of {home.Root} ({HomeLock.DescribeOwner(home)}) to resume run {snap.Id}; follow it with: posttrain status {snap.Id}");
            return CliApp.Success;
        }
        await using (owner)
        {
            await owner.ResumeAsync(snap.Id);
            RunSnapshot final;
            try { final = await RunProgressRenderer.FollowAsync(owner, snap.Id, quiet: json, ct); }
            catch (OperationCanceledException) { return await OwnerConnection.InterruptedAsync(owner, snap.Id, home); }
            if (json) Output.WriteJson(final);
            else RunPrinter.Print(final);
            return final.State == RunState.Succeeded ? CliApp.Success : CliApp.Failure;
        }
    }
}
