using System.CommandLine;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain doctor [--repair]</c>: checks the home's database; with <c>--repair</c>, sets a damaged one aside
/// and rebuilds the run history from the run snapshots (<c>HOME/runs/*.json</c>).
/// </summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var repair = new Option<bool>("--repair") { Description = "Set a damaged posttrain.db aside and rebuild run history from HOME/runs/*.json" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("doctor", "Check the home's database; --repair rebuilds a damaged one from the run snapshots") { repair, home, json };
        command.SetAction(p => Run(p.GetValue(repair), p.GetValue(home), p.GetValue(json)));
        return command;
    }

    public static int Run(bool repair, string? homeOption, bool json)
    {
        var home = PostTrainHome.Resolve(homeOption);
        var problem = DatabaseCheck.Problem(home.DatabasePath);
        if (!repair)
        {
            if (json) Output.WriteJson(new { home = home.Root, database = home.DatabasePath, sound = problem is null, problem });
            else if (problem is null) Console.Out.WriteLine($"{home.DatabasePath}: sound");
            return problem is null ? CliApp.Success : Output.Error($"{home.DatabasePath}: damaged: {problem}; run 'posttrain doctor --repair --home {home.Root}'");
        }
        HomeLock owner;
        try { owner = HomeLock.Acquire(home, "doctor --repair"); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        using (owner)
        {
            var result = HistoryRebuild.Repair(home, owner);
            if (json) Output.WriteJson(new { home = home.Root, database = home.DatabasePath, repaired = result.SetAside is not null, setAside = result.SetAside, runs = result.Runs, steps = result.Steps, definitions = result.Definitions });
            else if (result.SetAside is null) Console.Out.WriteLine($"{home.DatabasePath}: sound; nothing to repair");
            else Console.Out.WriteLine($"{home.DatabasePath}: set the damaged file aside as {result.SetAside}; rebuilt {result.Runs} run(s) and {result.Steps} step(s) " +
                $"from {home.RunsDirectory} ({result.Definitions} definition(s) re-read from their files). Metrics, checkpoint lineage and datasets are not in the snapshots and were not restored.");
            return CliApp.Success;
        }
    }
}
