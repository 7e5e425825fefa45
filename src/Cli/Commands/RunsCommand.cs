using System.CommandLine;
using PostTrain.Cli.Owner;
using PostTrain.Cli.Rendering;
using PostTrain.Engine.Store;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain runs</c>: every run in the home, newest first, from its owner when one serves it, else from the snapshot files.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("runs", "List runs with their ids and states") { home, json };
        command.SetAction(p => RunAsync(p.GetValue(home), p.GetValue(json)));
        return command;
    }

    public static async Task<int> RunAsync(string? homeOption, bool json)
    {
        var runs = await RunList.ListAsync(PostTrainHome.Resolve(homeOption));
        if (json)
            Output.WriteJson(runs.Select(r => new
            {
                id = r.Id,
                workflow = r.WorkflowId,
                version = r.WorkflowVersion,
                state = r.State.ToString(),
                error = r.Error,
                steps = r.Steps.Count,
                stepsDone = r.Steps.Count(s => s.State == StepState.Done),
                createdAt = r.CreatedAt,
                finishedAt = r.FinishedAt,
            }));
        else if (runs.Count == 0) Console.Out.WriteLine("no runs");
        else RunPrinter.PrintList(runs);
        return CliApp.Success;
    }
}
