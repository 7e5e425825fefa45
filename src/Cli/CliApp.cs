using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using PostTrain.Engine.Store;

namespace PostTrain.Cli;

/// <summary>
/// Builds the root command from <see cref="CommandList"/> and maps outcomes to exit codes, the same for every command:
/// 0 success; 1 failure (including a run, file or checkpoint that does not exist); 2 usage error (the command line
/// itself is wrong: unknown command or option, a value that does not parse or is out of range, a device that is not
/// there); 130 interrupted by Ctrl+C (the run stays resumable).
/// </summary>
public static class CliApp
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;

    public static RootCommand Build()
    {
        var root = new RootCommand("PostTrain: post-train LLaMA-architecture models the way Llama 3 was, as workflows");
        foreach (var create in CommandList.All) root.Subcommands.Add(CliOptions.AddGlobals(create()));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        error ??= Console.Error;
        var root = Build();
        ParseResult parse;
        try { parse = root.Parse(args); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            // A validator that reads a value which did not convert: still the user's command line, not a crash.
            await error.WriteLineAsync($"error: {e.Message} (see 'posttrain --help')");
            return Usage;
        }
        if (parse.Errors.Count > 0)
        {
            await error.WriteLineAsync(UsageLine(parse, root));
            return Usage;
        }
        // Long-running commands (host, worker, run) stop gracefully on Ctrl+C: give them time to release the home.
        var config = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30), EnableDefaultExceptionHandler = false };
        if (output is not null) config.Output = output;
        config.Error = error;
        try { return await parse.InvokeAsync(config); }
        catch (DamagedDatabaseException e)
        {
            // Any command that opens the database refuses a damaged one the same way: its path and the way out.
            await error.WriteLineAsync($"error: {e.Message}");
            return Failure;
        }
        catch (Owner.OwnerUnreachableException e)
        {
            // The home's owner went away under a client: say so, and how to go on, without a stack trace.
            await error.WriteLineAsync($"error: {e.Message}");
            return Failure;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("error: interrupted");
            return Interrupted;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("POSTTRAIN_DEBUG") != "1")
        {
            // One line for the user; POSTTRAIN_DEBUG=1 lets the stack trace through for a bug report.
            await error.WriteLineAsync($"error: {e.GetType().Name}: {e.Message} (POSTTRAIN_DEBUG=1 shows the stack trace)");
            return Failure;
        }
    }

    /// <summary>
    /// One line for any parse error: the most specific problem, System.CommandLine's typo suggestion when it has one,
    /// and where the usage is.
    /// </summary>
    public static string UsageLine(ParseResult parse, RootCommand root)
    {
        var errors = parse.Errors;
        var first = errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? errors[0];
        var message = Friendly(first.Message);
        var suggestions = Suggestions(parse);
        if (suggestions.Count > 0) message += $"; did you mean {string.Join(" or ", suggestions.Select(s => $"'{s}'"))}?";
        var command = parse.CommandResult.Command;
        var help = command == root ? "posttrain --help" : $"posttrain {string.Join(' ', Path(parse.CommandResult))} --help";
        return $"error: {message} (see '{help}')";
    }

    private static IEnumerable<string> Path(CommandResult result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is CommandResult c && c.Parent is not null; r = r.Parent) names.Push(c.Command.Name);
        return names;
    }

    /// <summary>System.CommandLine's own typo corrections ("'itreate' was not matched. Did you mean one of the following?").</summary>
    private static List<string> Suggestions(ParseResult parse)
    {
        if (parse.Action is not ParseErrorAction action) return [];
        action.ShowHelp = false;
        action.ShowTypoCorrections = true;
        var output = new StringWriter();
        parse.Invoke(new InvocationConfiguration { Output = output, Error = TextWriter.Null, EnableDefaultExceptionHandler = false });
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return [.. lines.SkipWhile(l => !l.EndsWith("Did you mean one of the following?", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.Contains(" was not matched", StringComparison.Ordinal))];
    }

    private static string Friendly(string message) => string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.')
        .Replace("as expected type 'System.Int32'", "as an integer", StringComparison.Ordinal)
        .Replace("as expected type 'System.Int64'", "as an integer", StringComparison.Ordinal)
        .Replace("as expected type 'System.Double'", "as a number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Nullable`1[System.Int32]'", "as an integer", StringComparison.Ordinal)
        .Replace("Unrecognized command or argument", "unknown command, option or argument", StringComparison.Ordinal)
        .Replace("Required command was not provided", "a command is required", StringComparison.Ordinal);
}
