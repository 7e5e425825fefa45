using System.CommandLine;
using PostTrain.Workflows.Activities;
using Spectre.Console;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain activities</c>: the activity descriptors, generated from the code (what the designer reads).</summary>
public static class ActivitiesCommand
{
    public static Command Create()
    {
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var command = new Command("activities", "List activity types with their inputs and outputs") { home, json };
        command.SetAction(p => Run(p.GetValue(json)));
        return command;
    }

    public static int Run(bool json)
    {
        var descriptors = PostTrainApplication.Registry().Descriptors;
        if (json)
        {
            Output.WriteJson(descriptors);
            return CliApp.Success;
        }
        if (descriptors.Count == 0)
        {
            Console.Out.WriteLine("no activities registered (stage activities live in src/Workflows/Activities/Stages); containers: repeat, forEach");
            return CliApp.Success;
        }
        foreach (var d in descriptors)
        {
            AnsiConsole.MarkupLine($"[bold]{Output.Escape(d.Type)}[/] [grey]({Output.Escape(d.Category)}, pool {d.Pool})[/] {Output.Escape(d.Description)}");
            var table = new Table().AddColumns("", "name", "type", "default", "description");
            foreach (var i in d.Inputs)
                table.AddRow("in", Output.Escape(i.Name) + (i.Required ? "*" : ""), Output.Escape(i.Type), Output.Escape(i.Default?.ToJsonString() ?? ""), Output.Escape(i.Description));
            foreach (var o in d.Outputs)
                table.AddRow("out", Output.Escape(o.Name), Output.Escape(o.Type), "", Output.Escape(o.Description));
            AnsiConsole.Write(table);
        }
        return CliApp.Success;
    }
}
