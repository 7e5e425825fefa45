using System.CommandLine;
using PostTrain.Engine.Store;

namespace PostTrain.Cli;

/// <summary>Builds the root command from <see cref="CommandList"/> and maps outcomes to exit codes: 0 success, 1 failure, 2 usage error.</summary>
public static class CliApp
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    public static RootCommand Build()
    {
        var root = new RootCommand("PostTrain: post-train LLaMA-architecture models the way Llama 3 was, as workflows");
        foreach (var create in CommandList.All) root.Subcommands.Add(create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var root = Build();
        var parse = root.Parse(args);
        error ??= Console.Error;
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) await error.WriteLineAsync($"error: {e.Message}");
            await error.WriteLineAsync($"run '{string.Join(' ', ["posttrain", .. parse.CommandResult.Command == root ? [] : new[] { parse.CommandResult.Command.Name }])} --help' for usage");
            return Usage;
        }
        // Long-running commands (host, worker, run) stop gracefully on Ctrl+C: give them time to release the home.
        var config = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
        if (output is not null) config.Output = output;
        config.Error = error;
        // Handled here rather than by System.CommandLine's default handler, which would print a damaged database's
        // refusal as a stack trace; anything else is reported as that handler does.
        config.EnableDefaultExceptionHandler = false;
        try
        {
            return await parse.InvokeAsync(config);
        }
        catch (DamagedDatabaseException e)
        {
            // Any command that opens the database refuses a damaged one the same way: its path and the way out.
            await error.WriteLineAsync($"error: {e.Message}");
            return Failure;
        }
        catch (OperationCanceledException)
        {
            return Failure;
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"Unhandled exception: {e}");
            return Failure;
        }
    }
}
