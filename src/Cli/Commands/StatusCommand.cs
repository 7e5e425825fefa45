using System.CommandLine;
using PostTrain.Cli.Owner;
using PostTrain.Cli.Rendering;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain status [RUN]</c>: a run's steps, live from the home's owner when one serves it, else from its snapshot file.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var run = new Argument<string?>("run") { Description = "Run id or unique prefix (default: running runs, else the latest)", Arity = ArgumentArity.ZeroOrOne };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("status", "Show a run and its steps") { run, home, json };
        command.SetAction(p => RunAsync(p.GetValue(run), p.GetValue(home), p.GetValue(json)));
        return command;
    }

    public static async Task<int> RunAsync(string? runId, string? homeOption, bool json)
    {
        var home = PostTrainHome.Resolve(homeOption);
        IReadOnlyList<RunSnapshot> runs;
        if (runId is not null)
        {
            var one = SnapshotReader.Match(await RunList.ListAsync(home), runId);
            if (one is null) return Output.Error($"no run '{runId}' in {home.RunsDirectory} (ids: posttrain runs --home {home.Root})");
            runs = [one];
        }
        else
        {
            var all = await RunList.ListAsync(home);
            if (all.Count == 0) return Output.Error($"no runs in {home.RunsDirectory}");
            var active = all.Where(r => r.State is RunState.Running or RunState.Queued).ToList();
            runs = active.Count > 0 ? active : [all[0]];
        }
        if (json && runId is null) Output.WriteJson(runs);
        else if (json) Output.WriteJson(runs[0]);
        else foreach (var r in runs) RunPrinter.Print(r);
        return CliApp.Success;
    }
}
