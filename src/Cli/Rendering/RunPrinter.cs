using PostTrain.Engine.Store;
using Spectre.Console;

namespace PostTrain.Cli.Rendering;

/// <summary>Prints a run's summary and its steps as a table.</summary>
public static class RunPrinter
{
    public static void Print(RunSnapshot run)
    {
        AnsiConsole.MarkupLine($"[bold]{run.Id}[/]  {Output.Escape(run.WorkflowId)} v{run.WorkflowVersion}  {StateMarkup(run.State.ToString())}");
        AnsiConsole.MarkupLine($"  source {Output.Escape(run.Source)}  seed {run.Seed}  params {Output.Escape(run.ParametersJson)}");
        if (run.Error is not null) AnsiConsole.MarkupLine($"  [red]error:[/] {Output.Escape(run.Error)}");
        if (run.OutputsJson is not null) AnsiConsole.MarkupLine($"  outputs {Output.Escape(run.OutputsJson)}");
        var table = new Table().AddColumns("step", "activity", "pool", "state", "attempt", "progress", "detail");
        foreach (var s in run.Steps)
            table.AddRow(
                Output.Escape(s.Path), Output.Escape(s.ActivityType), s.Pool, StateMarkup(s.State.ToString()) + (s.FromCache ? " (cached)" : ""),
                s.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{s.Progress:P0}",
                Output.Escape(Truncate(s.Error ?? (s.Message.Length > 0 ? s.Message : s.OutputsJson) ?? "", 80)));
        AnsiConsole.Write(table);
    }

    public static void PrintList(IReadOnlyList<RunSnapshot> runs)
    {
        var table = new Table().AddColumns("run", "workflow", "state", "steps done", "created", "finished");
        foreach (var r in runs)
            table.AddRow(r.Id.ToString(), Output.Escape(r.WorkflowId), StateMarkup(r.State.ToString()),
                $"{r.Steps.Count(s => s.State == StepState.Done)}/{r.Steps.Count}", r.CreatedAt.ToString("u"), r.FinishedAt?.ToString("u") ?? "");
        AnsiConsole.Write(table);
    }

    public static string StateMarkup(string state) => state switch
    {
        "Succeeded" or "Done" => $"[green]{state}[/]",
        "Failed" => $"[red]{state}[/]",
        "Cancelled" => $"[grey]{state}[/]",
        "Retrying" => $"[yellow]{state}[/]",
        "Running" or "Dispatched" => $"[blue]{state}[/]",
        _ => state,
    };

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
}
