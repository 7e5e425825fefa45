using System.CommandLine;
using PostTrain.Cli.Owner;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain cancel RUN</c>: cancels a run, directly or by asking the process that owns the home.</summary>
public static class CancelCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "Run id or unique prefix" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var bus = CliOptions.Bus();
        var command = new Command("cancel", "Cancel a run") { run, home, json, bus };
        command.SetAction((p, ct) => RunAsync(p.GetValue(run)!, p.GetValue(home), p.GetValue(json), p.GetValue(bus), ct));
        return command;
    }

    public static async Task<int> RunAsync(string runText, string? homeOption, bool json, string? busOption, CancellationToken ct)
    {
        BusSettings bus;
        try { bus = CliOptions.ResolveBus(busOption); }
        catch (ArgumentException e) { return Output.Error($"--bus: {e.Message}", CliApp.Usage); }
        var home = PostTrainHome.Resolve(homeOption);
        var snap = SnapshotReader.Find(home, runText);
        if (snap is null) return Output.Error($"no run '{runText}' in {home.RunsDirectory}");
        if (snap.State is RunState.Succeeded or RunState.Failed or RunState.Cancelled)
            return Output.Error($"run {snap.Id} already finished ({snap.State}); nothing to cancel");

        if (OwnerClient.Find(home) is { } owner)
        {
            await using (owner)
            {
                if (!await owner.CancelAsync(snap.Id, "cancelled by user")) return Output.Error($"run {snap.Id} already finished ({(await owner.SnapshotAsync(snap.Id)).State}); nothing to cancel");
                return Done(await owner.SnapshotAsync(snap.Id), json);
            }
        }
        if (HomeLock.IsHeld(home))
        {
            ControlRequests.RequestCancel(home, snap.Id);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                var now = SnapshotReader.Find(home, snap.Id.ToString());
                if (now?.State == RunState.Cancelled) return Done(now, json);
                await Task.Delay(200, CancellationToken.None);
            }
            return Output.Error($"asked {HomeLock.DescribeOwner(home) ?? "the owner"} to cancel run {snap.Id}, but it has not confirmed within 15 s");
        }
        LocalHost host;
        try { host = await LocalHost.StartAsync(home, bus, [], "cancel", worker: false); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (host)
        {
            await host.Engine.CancelAsync(snap.Id);
            return Done(host.Engine.Snapshot(snap.Id), json);
        }
    }

    private static int Done(RunSnapshot run, bool json)
    {
        if (json) Output.WriteJson(new { id = run.Id, state = run.State.ToString() });
        else Console.Out.WriteLine($"run {run.Id} {run.State}");
        return CliApp.Success;
    }
}
