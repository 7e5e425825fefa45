using System.CommandLine;
using PostTrain.Workflows.Activities;
using PostTrain.Cli.Rendering;

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
            var table = new TextTable("", "name", "type", "default", "description") { Title = $"{d.Type} ({d.Category}, pool {d.Pool}): {d.Description}" };
            foreach (var i in d.Inputs)
                table.AddRow("in", i.Name + (i.Required ? "*" : ""), i.Type, i.Default?.ToJsonString() ?? "", i.Description);
            foreach (var o in d.Outputs)
                table.AddRow("out", o.Name, o.Type, "", o.Description);
            table.Write();
        }
        return CliApp.Success;
    }
}
