using System.Globalization;
using PostTrain.Engine.Store;
using Spectre.Console;

namespace PostTrain.Cli.Rendering;

/// <summary>Prints a run's summary and its steps as a table.</summary>
public static class RunPrinter
{
    public static void Print(RunSnapshot run)
    {
        Line($"{run.Id}  {run.WorkflowId} v{run.WorkflowVersion}  {run.State}", $"[bold]{run.Id}[/]  {Output.Escape(run.WorkflowId)} v{run.WorkflowVersion}  {StateMarkup(run.State.ToString())}");
        Line($"  source {run.Source}  seed {run.Seed}  params {run.ParametersJson}");
        if (run.Error is not null) Line($"  error: {run.Error}", $"  [red]error:[/] {Output.Escape(run.Error)}");
        if (run.OutputsJson is not null) Line($"  outputs {run.OutputsJson}");
        var table = new TextTable("step", "activity", "pool", "state", "attempt", "progress", "time", "detail") { StateColumn = 3 };
        foreach (var s in run.Steps)
        {
            var detail = s.Error ?? (s.Message.Length > 0 ? s.Message : s.OutputsJson) ?? "";
            table.AddRow(s.Path, s.ActivityType, s.Pool, s.State + (s.FromCache ? " (cached)" : ""),
                s.Attempt.ToString(CultureInfo.InvariantCulture), Percent(s.Progress),
                Elapsed(s.StartedAt, s.FinishedAt), Output.Terminal ? Truncate(detail, 80) : detail);
        }
        table.Write();
    }

    public static void PrintList(IReadOnlyList<RunSnapshot> runs)
    {
        var table = new TextTable("run", "workflow", "state", "steps done", "created", "finished") { StateColumn = 2 };
        foreach (var r in runs)
            table.AddRow(r.Id.ToString(), r.WorkflowId, r.State.ToString(),
                $"{r.Steps.Count(s => s.State == StepState.Done)}/{r.Steps.Count}", r.CreatedAt.ToString("u", CultureInfo.InvariantCulture),
                r.FinishedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "");
        table.Write();
    }

    public static string StateMarkup(string state) => state switch
    {
        "Succeeded" or "Done" => $"[green]{state}[/]",
        "Failed" => $"[red]{state}[/]",
        "Cancelled" or "Interrupted" => $"[grey]{state}[/]",
        "Retrying" => $"[yellow]{state}[/]",
        "Running" or "Dispatched" => $"[blue]{state}[/]",
        _ => Output.Escape(state),
    };

    /// <summary>A step's own clock: from its start to its end, or to now while it runs; nothing before it starts.</summary>
    public static string Elapsed(DateTime? started, DateTime? finished) =>
        started is { } s ? Duration((finished ?? DateTime.UtcNow) - s) : "";

    public static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:F0}%");

    public static string Duration(TimeSpan t) => t.TotalHours >= 1
        ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private static void Line(string plain, string? markup = null)
    {
        if (Output.Terminal) AnsiConsole.MarkupLine(markup ?? Output.Escape(plain));
        else Console.Out.WriteLine(plain);
    }

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
}
