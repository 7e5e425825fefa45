using System.CommandLine;
using PostTrain.Workflows.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Store;
using PostTrain.Workflows.Validation;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain validate WORKFLOW</c>: every problem at once, each with its JSON path (or line and position).</summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var workflow = new Argument<string>("workflow") { Description = "Workflow file, or the name of one in the workflow directories" };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var workflows = CliOptions.Workflows();
        var command = new Command("validate", "Check a workflow file against the known activities") { workflow, home, json, workflows };
        command.SetAction(p => Run(p.GetValue(workflow)!, p.GetValue(home), p.GetValue(json), p.GetValue(workflows)));
        return command;
    }

    public static int Run(string workflow, string? homeOption, bool json, string[]? workflowDirs)
    {
        var catalog = new WorkflowCatalog(CliOptions.WorkflowDirectories(workflowDirs, PostTrainHome.Resolve(homeOption)));
        var load = catalog.Load(workflow);
        var problems = WorkflowValidator.Validate(load, PostTrainApplication.Registry());
        if (json)
            Output.WriteJson(new { file = load.Source, valid = problems.Count == 0, problems = problems.Select(p => new { path = p.Path, line = p.Line, position = p.Position, message = p.Message }) });
        else if (problems.Count == 0)
            Console.Out.WriteLine($"{load.Source}: valid ({load.Definition!.Id} v{load.Definition.Version})");
        else
        {
            foreach (var p in problems) Console.Out.WriteLine(p.Format(load.Source));
            Console.Error.WriteLine($"{load.Source}: {problems.Count} problem(s)");
        }
        return problems.Count == 0 ? CliApp.Success : CliApp.Failure;
    }
}
