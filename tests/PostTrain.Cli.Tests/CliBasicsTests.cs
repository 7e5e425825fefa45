using System.Text.Json;
using PostTrain.Cli.Tests.Support;

namespace PostTrain.Cli.Tests;

/// <summary>The posttrain binary as a user meets it: help, usage errors, validate, data import, --json.</summary>
public sealed class CliBasicsTests
{
    [Fact]
    public async Task Help_Root_ListsEveryCommand()
    {
        using var home = new TempHome("help");
        var r = await Posttrain.RunAsync(home.Root, "--help");
        Assert.True(r.ExitCode == 0, r.ToString());
        var names = CommandList.All.Select(c => c().Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count()); // a count here broke with every new command; each name is checked below
        foreach (var name in names)
            Assert.Matches($@"(?m)^\s+{name}\b", r.Stdout);
    }

    [Fact]
    public async Task Parse_UnknownOption_ExitsWithUsageError()
    {
        using var home = new TempHome("usage");
        var r = await Posttrain.RunAsync(home.Root, "runs", "--no-such-option");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--no-such-option", r.Stderr);
    }

    public static TheoryData<string> ShippedWorkflows()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(Posttrain.RepoRoot, "workflows"), "*.json").OrderBy(f => f, StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedWorkflows))]
    public async Task Validate_ShippedWorkflow_ExitsZero(string file)
    {
        using var home = new TempHome("valid");
        var r = await Posttrain.RunAsync(home.Root, "validate", Path.Combine(Posttrain.RepoRoot, "workflows", file));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("valid", r.Stdout);
    }

    [Fact]
    public void ShippedWorkflows_Listed_AtLeastThree() => Assert.True(ShippedWorkflows().Count >= 3);

    [Theory]
    [InlineData("bad-unknown-type.json", "$.activities[0].type", "unknown activity type 'NoSuchActivity'")]
    [InlineData("bad-missing-input.json", "$.activities[0].inputs", "missing required input 'tasks'")]
    [InlineData("bad-missing-output.json", "$.activities[1].inputs.value", "has no output 'nothing'")]
    [InlineData("bad-cycle.json", "$.activities[0]", "cycle: a -> b -> a")]
    [InlineData("bad-parameter-range.json", "$.parameters.seconds.default", "above max 10")]
    [InlineData("bad-malformed.json", "bad-malformed.json:2:", "malformed JSON")]  // FILE:LINE:POSITION
    public async Task Validate_BadFile_ExitsOneNamingFileAndPath(string file, string where, string reason)
    {
        using var home = new TempHome("invalid");
        var path = Posttrain.TestWorkflow(file);
        var r = await Posttrain.RunAsync(home.Root, "validate", path);
        Assert.True(r.ExitCode == 1, r.ToString());
        var problems = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(problems);
        // Every problem line names the file; the expected one also names where and why.
        Assert.All(problems, line => Assert.Contains(file, line));
        Assert.Contains(problems, line => line.Contains(where, StringComparison.Ordinal) && line.Contains(reason, StringComparison.Ordinal));

        var json = await Posttrain.RunAsync(home.Root, "validate", path, "--json");
        Assert.True(json.ExitCode == 1, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        Assert.EndsWith(file, doc.RootElement.GetProperty("file").GetString());
        Assert.NotEqual(0, doc.RootElement.GetProperty("problems").GetArrayLength());
    }

    [Fact]
    public async Task DataImport_BadLine_ExitsOneNamingFileLineAndStoresNothing()
    {
        using var home = new TempHome("import");
        var good = """{"prompt":"What is 2+3?","chosen":"5","rejected":"6"}""";
        var file = Path.Combine(home.Root, "prefs.jsonl");
        await File.WriteAllTextAsync(file, string.Join('\n', good, good, """{"prompt":"What is 4+4?","chosen":"8"}""", good) + "\n");

        var before = await Posttrain.RunAsync(home.Root, "runs", "--json");
        Assert.True(before.ExitCode == 0, before.ToString());
        var r = await Posttrain.RunAsync(home.Root, "data", "import", file);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("prefs.jsonl:3", r.Stderr);
        Assert.Contains("nothing was stored", r.Stderr);
        var after = await Posttrain.RunAsync(home.Root, "runs", "--json");
        Assert.Equal(before.Stdout, after.Stdout);
        // No dataset: the database was never created and no artifact was stored.
        Assert.False(File.Exists(Path.Combine(home.Root, "posttrain.db")), "a rejected batch opened the database");
        var objects = Path.Combine(home.Root, "artifacts", "objects");
        Assert.True(!Directory.Exists(objects) || !Directory.EnumerateFileSystemEntries(objects).Any(), "a rejected batch stored an artifact");

        // The same file without the bad line is accepted and stored: the check above can fail.
        var fixedFile = Path.Combine(home.Root, "prefs-ok.jsonl");
        await File.WriteAllTextAsync(fixedFile, string.Join('\n', good, good, good) + "\n");
        var ok = await Posttrain.RunAsync(home.Root, "data", "import", fixedFile, "--json");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        using var doc = JsonDocument.Parse(ok.Stdout);
        Assert.Equal(3, doc.RootElement.GetProperty("pairs").GetInt32());
        Assert.StartsWith("sha256:", doc.RootElement.GetProperty("artifact").GetString());
        Assert.True(Directory.EnumerateFileSystemEntries(objects).Any());
    }

    [Fact]
    public async Task JsonOption_ReadCommands_PrintParseableJson()
    {
        using var home = new TempHome("json");
        var runs = await Posttrain.RunAsync(home.Root, "runs", "--json");
        Assert.True(runs.ExitCode == 0, runs.ToString());
        using (var doc = JsonDocument.Parse(runs.Stdout)) Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);

        var activities = await Posttrain.RunAsync(home.Root, "activities", "--json");
        Assert.True(activities.ExitCode == 0, activities.ToString());
        using (var doc = JsonDocument.Parse(activities.Stdout))
            Assert.Contains("Pretrain", doc.RootElement.ToString());

        var valid = await Posttrain.RunAsync(home.Root, "validate", Path.Combine(Posttrain.RepoRoot, "workflows", "pretrain.json"), "--json");
        Assert.True(valid.ExitCode == 0, valid.ToString());
        using (var doc = JsonDocument.Parse(valid.Stdout)) Assert.True(doc.RootElement.GetProperty("valid").GetBoolean());

        // A real (instant) run: run --json prints the final snapshot, status/runs --json read it back.
        var run = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(3), "run", Posttrain.TestWorkflow("two-delays.json"), "--param", "seconds=0", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var final = JsonDocument.Parse(run.Stdout);
        var id = final.RootElement.GetProperty("id").GetString()!;
        Assert.Equal("Succeeded", final.RootElement.GetProperty("state").GetString());
        var status = await Posttrain.RunAsync(home.Root, "status", id, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        using (var doc = JsonDocument.Parse(status.Stdout)) Assert.Equal(id, doc.RootElement.GetProperty("id").GetString());
        var listed = await Posttrain.RunAsync(home.Root, "runs", "--json");
        using (var doc = JsonDocument.Parse(listed.Stdout))
        {
            var only = Assert.Single(doc.RootElement.EnumerateArray());
            Assert.Equal(id, only.GetProperty("id").GetString());
            Assert.Equal(3, only.GetProperty("stepsDone").GetInt32());
        }
    }

    [Fact]
    public async Task DataImport_SftWithBrokenLines_RefusedWholeWithTwentyErrorsAndACount()
    {
        using var home = new TempHome("import-bad-sft");
        var file = Path.Combine(home.Root, "sft.jsonl");
        var good = """{"prompt": [{"role": "user", "content": "What is 2+3?"}], "response": "5"}""";
        await File.WriteAllTextAsync(file, good + "\n" + string.Concat(Enumerable.Repeat("""{"prompt": [{"role": "user", "content": "q"}], "response": ""}""" + "\n", 30)));
        var r = await Posttrain.RunAsync(home.Root, "data", "import", file, "--kind", "sft");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains($"{file}:2: response: expected non-empty text", r.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{file}:21: response", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain($"{file}:22:", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("... and 10 more", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("30 bad line(s); nothing was stored", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(home.Root, "posttrain.db")), "a rejected file opened the database");

        await File.WriteAllTextAsync(file, good + "\n" + good + "\n");
        var ok = await Posttrain.RunAsync(home.Root, "data", "import", file, "--kind", "sft", "--json");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal(2, JsonDocument.Parse(ok.Stdout).RootElement.GetProperty("rows").GetInt32());
    }
}
