using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace PostTrain.Bench;

/// <summary>
/// Wall time of <c>posttrain iterate --rounds 6</c> on the defaults, split by activity from <c>posttrain status RUN --json</c>.
/// Skipped, saying why, while the CLI lacks <c>iterate</c> or the JSON status commands.
/// </summary>
internal static class EndToEndBench
{
    public static JsonObject Run(string repo, int rounds, string? preset, Table table)
    {
        var exe = Path.Combine(repo, "src", "Cli", "bin", "Release", "net10.0", "posttrain");
        if (!File.Exists(exe)) return Skip(table, $"{exe} not found: build it with `dotnet build src/Cli -c Release` (bench/run.sh does)");
        var help = Exec(exe, ["iterate", "--help"], TimeSpan.FromMinutes(1));
        if (help.Code != 0) return Skip(table, $"`posttrain iterate` is not available yet (exit {help.Code}): {FirstLine(help.Err + help.Out)}");
        foreach (var cmd in new[] { new[] { "runs", "--help" }, new[] { "status", "--help" } })
        {
            var r = Exec(exe, cmd, TimeSpan.FromMinutes(1));
            if (r.Code != 0 || !r.Out.Contains("--json", StringComparison.Ordinal))
                return Skip(table, $"`posttrain {cmd[0]} --json` is not available yet (exit {r.Code}); per-activity timings cannot be read");
        }

        // A fresh home, so the run list holds this run only and no earlier cache (reference log-probs, artifacts) helps it.
        var work = Directory.CreateTempSubdirectory("posttrain-bench-e2e-").FullName;
        var home = Path.Combine(work, "home");
        var clock = Stopwatch.StartNew();
        string[] iterate = ["iterate", "--rounds", rounds.ToString(CultureInfo.InvariantCulture), "--home", home, .. preset is null ? [] : new[] { "--preset", preset }];
        var run = Exec(exe, iterate, TimeSpan.FromHours(2), work);
        var wall = clock.Elapsed.TotalSeconds;
        if (run.Code != 0) return Skip(table, $"`posttrain {string.Join(' ', iterate)}` exited with {run.Code}{(run.Code > 128 ? $" (signal {run.Code - 128})" : "")}: {LastLines(run.Err)}", wall);

        var runs = JsonNode.Parse(Exec(exe, ["runs", "--json", "--home", home], TimeSpan.FromMinutes(1), work).Out);
        var runId = NewestRunId(runs);
        if (runId is null) return Skip(table, "`posttrain runs --json` listed no run id", wall);
        var status = JsonNode.Parse(Exec(exe, ["status", runId, "--json", "--home", home], TimeSpan.FromMinutes(1), work).Out);
        var byActivity = new Dictionary<string, double>();
        Collect(status, byActivity);
        var json = new JsonObject { ["command"] = $"posttrain {string.Join(' ', iterate)}", ["wall_s"] = wall, ["run_id"] = runId };
        var stepSeconds = byActivity.Values.Sum();
        table.Add("(outside any step: startup, scheduling, report)", Math.Max(0, wall - stepSeconds), $"{100 * Math.Max(0, wall - stepSeconds) / wall:F1}%");
        var acts = new JsonObject();
        foreach (var (name, s) in byActivity.OrderByDescending(kv => kv.Value))
        {
            table.Add(name, s, $"{100 * s / wall:F1}%");
            acts[name] = s;
        }
        table.Add("TOTAL (wall)", wall, "100%");
        json["seconds_by_activity"] = acts;
        json["status"] = status;
        try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        return json;
    }

    private static JsonObject Skip(Table table, string reason, double? wall = null)
    {
        table.Add($"SKIPPED: {reason}", wall, null);
        return new JsonObject { ["skipped"] = reason, ["wall_s"] = wall };
    }

    private static string LastLines(string s) =>
        string.Join(" / ", s.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(3).Select(l => l.Trim()));

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";

    private static string? NewestRunId(JsonNode? node) => node switch
    {
        JsonArray a => a.Select(NewestRunId).FirstOrDefault(id => id is not null), // newest first
        JsonObject o => (o["id"] ?? o["runId"] ?? o["run_id"])?.ToString() ?? NewestRunId(o["runs"]),
        _ => null,
    };

    /// <summary>Sums seconds per activity over any objects that name an activity and carry a duration or start/end times.</summary>
    private static void Collect(JsonNode? node, Dictionary<string, double> into)
    {
        switch (node)
        {
            case JsonArray a:
                foreach (var x in a) Collect(x, into);
                break;
            case JsonObject o:
                var name = (o["activity"] ?? o["activityType"] ?? o["type"] ?? o["name"])?.ToString();
                double? secs = null;
                foreach (var key in new[] { "durationSeconds", "duration_s", "seconds", "elapsedSeconds" })
                    if (o[key] is JsonValue v && v.TryGetValue<double>(out var d)) secs = d;
                if (secs is null && o["duration"] is JsonValue dv && TimeSpan.TryParse(dv.ToString(), CultureInfo.InvariantCulture, out var ts)) secs = ts.TotalSeconds;
                var start = (o["startedAt"] ?? o["started"] ?? o["start"])?.ToString();
                var end = (o["completedAt"] ?? o["finishedAt"] ?? o["finished"] ?? o["end"])?.ToString();
                if (secs is null && DateTimeOffset.TryParse(start, CultureInfo.InvariantCulture, DateTimeStyles.None, out var s0)
                    && DateTimeOffset.TryParse(end, CultureInfo.InvariantCulture, DateTimeStyles.None, out var s1)) secs = (s1 - s0).TotalSeconds;
                if (name is not null && secs is not null && o.Count(kv => kv.Value is JsonArray) == 0)
                    into[name] = into.GetValueOrDefault(name) + secs.Value;
                else
                    foreach (var kv in o) Collect(kv.Value, into);
                break;
        }
    }

    private sealed record Result(int Code, string Out, string Err);

    private static Result Exec(string exe, string[] args, TimeSpan timeout, string? cwd = null)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cwd is not null) psi.WorkingDirectory = cwd;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return new Result(-1, output.Result, $"timed out after {timeout}");
        }
        return new Result(p.ExitCode, output.Result, err.Result);
    }
}
