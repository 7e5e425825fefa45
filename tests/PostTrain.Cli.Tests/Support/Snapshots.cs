using System.Text.Json;
using System.Text.Json.Nodes;

namespace PostTrain.Cli.Tests.Support;

/// <summary>Reads HOME/runs/&lt;id&gt;.json, the snapshot the home's owner rewrites atomically on every change (what status --json prints).</summary>
public static class Snapshots
{
    public static JsonObject? TryReadOnly(string home)
    {
        var dir = Path.Combine(home, "runs");
        if (!Directory.Exists(dir)) return null;
        var files = Directory.GetFiles(dir, "*.json");
        if (files.Length != 1) return null;
        return TryRead(files[0]);
    }

    public static JsonObject? TryRead(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)) as JsonObject; }
        catch (IOException) { return null; }
        catch (JsonException) { return null; }
    }

    public static JsonObject? Step(JsonObject run, string path) =>
        run["steps"]!.AsArray().OfType<JsonObject>().FirstOrDefault(s => (string?)s["path"] == path);

    public static string StateOf(JsonObject run, string path) => (string?)Step(run, path)?["state"] ?? "";

    public static double ProgressOf(JsonObject run, string path) => Step(run, path)?["progress"]?.GetValue<double>() ?? 0;

    /// <summary>Polls the home's single run snapshot until <paramref name="condition"/> holds; fails if the process exits first or time runs out.</summary>
    public static async Task<JsonObject> WaitForAsync(string home, ChildProcess owner, Func<JsonObject, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (TryReadOnly(home) is { } run && condition(run)) return run;
            if (owner.HasExited)
                throw new Xunit.Sdk.XunitException($"posttrain {owner.Description} exited before '{what}'.\n{(TryReadOnly(home)?.ToJsonString() ?? "no snapshot")}\n--- stdout ---\n{owner.Stdout}\n--- stderr ---\n{owner.Stderr}");
            await Task.Delay(50);
        }
        throw new TimeoutException($"'{what}' not reached in {timeout}.\n{TryReadOnly(home)?.ToJsonString() ?? "no snapshot"}\n--- stderr ---\n{owner.Stderr}");
    }
}
