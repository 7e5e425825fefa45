using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using PostTrain.Cli.Tests.Support;
using PostTrain.Engine.Definitions;

namespace PostTrain.Cli.Tests;

/// <summary>Issue 20, the CLI as a person uses it: usage errors, global options, exit codes, JSON, tables, presets, Ctrl+C.</summary>
public sealed class CliUsageTests
{
    [Theory]
    [InlineData("--rounds abc", "'abc'")]
    [InlineData("--rounds 0", "expected 1..20")]
    [InlineData("--preset huge", "huge")]
    [InlineData("--seed x1", "'x1'")]
    public async Task Parse_BadValue_UsageErrorOnOneLineWithoutStackTrace(string options, string named)
    {
        using var home = new TempHome("parse");
        var r = await Posttrain.RunAsync(home.Root, ["iterate", .. options.Split(' ')]);
        Assert.True(r.ExitCode == 2, r.ToString());
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(named, line);
        Assert.DoesNotContain(" at ", r.Stderr);
        Assert.False(File.Exists(Path.Combine(home.Root, "posttrain.db")), "a usage error touched the home");
    }

    [Theory]
    [InlineData("itreate", "did you mean 'iterate'?")]
    [InlineData("iterate --ruonds 2", "did you mean '--rounds'?")]
    [InlineData("stauts", "did you mean 'status'?")]
    public async Task Parse_Typo_SuggestsTheNearestName(string args, string suggestion)
    {
        using var home = new TempHome("typo");
        var r = await Posttrain.RunAsync(home.Root, args.Split(' '));
        Assert.True(r.ExitCode == 2, r.ToString());
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(suggestion, line);
    }

    [Theory]
    [InlineData("iterate", "gpu", "expected cpu, cuda or cuda:N")]
    [InlineData("pretrain", "gpu", "expected cpu, cuda or cuda:N")]
    [InlineData("run", "cuda:x", "expected cuda:N")]
    public async Task Device_Unknown_RefusedBeforeAnyWork(string command, string device, string reason)
    {
        using var home = new TempHome("device");
        string[] args = command == "run" ? ["run", Posttrain.TestWorkflow("two-delays.json"), "--device", device] : [command, "--device", device, "--home", home.Root];
        var r = await Posttrain.RunAsync(home.Root, args);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains($"--device: device '{device}': {reason}", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(home.Root));
    }

    [Fact]
    public async Task Device_CudaWithoutCudaLibtorch_RefusedWithTheReason()
    {
        if (TorchSharp.torch.cuda.is_available()) return; // a CUDA machine accepts it; the check is what this build can run
        using var home = new TempHome("cuda");
        var r = await Posttrain.RunAsync(home.Root, "iterate", "--device", "cuda", "--preset", "tiny");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("CUDA is not available", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(home.Root));
    }

    [Fact]
    public void GlobalOptions_EveryCommand_TakesHomeAndJson()
    {
        var root = CliApp.Build();
        var leaves = new List<Command>();
        void Walk(Command c) { if (c.Action is not null) leaves.Add(c); foreach (var s in c.Subcommands) Walk(s); }
        Walk(root);
        Assert.True(leaves.Count >= CommandList.All.Count, $"{leaves.Count} commands with an action");
        foreach (var c in leaves)
        {
            Assert.Contains(c.Options, o => o.Name == "--home");
            Assert.Contains(c.Options, o => o.Name == "--json");
        }
        // A command written without them gets them by construction.
        var bare = new Command("bare");
        bare.SetAction(_ => 0);
        Assert.Equal(["--home", "--json"], CliOptions.AddGlobals(bare).Options.Select(o => o.Name).Order());
    }

    [Fact]
    public async Task Pretrain_HomeOption_WritesIntoTheHome()
    {
        using var home = new TempHome("pretrain-home");
        // A bad step count fails in the options check, after --home and --json parsed: both are accepted here.
        var r = await Posttrain.RunAsync(home.Root, "pretrain", "--home", home.Root, "--json", "--steps", "0");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.DoesNotContain("Unrecognized", r.Stderr);
        var g = await Posttrain.RunAsync(home.Root, "generate", "--home", home.Root, "--model", Path.Combine(home.Root, "none"), "--prompt-ids", "1");
        Assert.True(g.ExitCode == 1, g.ToString());
        Assert.DoesNotContain("Unrecognized", g.Stderr);
    }

    [Fact]
    public async Task NotFoundRun_EveryCommand_ExitsOne_AndJsonIsNested_AndTablesAreMarkdown()
    {
        using var home = new TempHome("notfound");
        var run = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(3), "run", Posttrain.TestWorkflow("two-delays.json"), "--param", "seconds=0", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        // Real nested objects, nothing but JSON on stdout (logs go to stderr).
        var final = JsonNode.Parse(run.Stdout)!.AsObject();
        Assert.IsType<JsonObject>(final["parameters"]);
        Assert.IsType<JsonObject>(final["outputs"]);
        Assert.Null(final["parametersJson"]);
        Assert.Null(final["outputsJson"]);
        Assert.Equal(0, final["parameters"]!["seconds"]!.GetValue<int>());
        Assert.All(final["steps"]!.AsArray(), s => Assert.IsType<JsonObject>(s!["outputs"]));
        var id = (string)final["id"]!;

        foreach (var command in new[] { "status", "report", "resume", "cancel" })
        {
            var r = await Posttrain.RunAsync(home.Root, command, "00000000-nosuch", "--home", home.Root);
            Assert.True(r.ExitCode == 1, $"{command}: {r}");
            Assert.Contains("no run '00000000-nosuch'", r.Stderr);
        }

        var resumed = await Posttrain.RunAsync(home.Root, "resume", id, "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(id, (string?)JsonNode.Parse(resumed.Stdout)!["id"]);

        // Not a terminal: Markdown, the whole run id and every cell on one line.
        var runs = await Posttrain.RunAsync(home.Root, "runs");
        Assert.True(runs.ExitCode == 0, runs.ToString());
        Assert.Matches(@"(?m)^\| run \| workflow \| state \| steps done \| created \| finished \|$", runs.Stdout);
        Assert.Matches($@"(?m)^\| {id} \| two-delays \| Succeeded \| 3/3 \| ", runs.Stdout);
        var status = await Posttrain.RunAsync(home.Root, "status", id);
        Assert.Matches(@"(?m)^\| step \| activity \| pool \| state \| attempt \| progress \| time \| detail \|$", status.Stdout);
        Assert.Matches(@"(?m)^\| left \| Delay \| cpu \| Done \| 1 \| 100% \| \d+:\d\d \| ", status.Stdout);
    }

    [Fact]
    public async Task CtrlC_DuringRun_MarksItInterruptedAndPrintsTheResumeCommand()
    {
        using var home = new TempHome("sigint");
        using var child = Posttrain.Start(home.Root, "run", Posttrain.TestWorkflow("two-delays.json"), "--param", "seconds=8");
        await Snapshots.WaitForAsync(home.Root, child, r => Snapshots.StateOf(r, "left") == "Running", TimeSpan.FromMinutes(2), "left step running");
        using (var kill = Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        var r = await child.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(r.ExitCode == 130, r.ToString());
        var id = (string)Snapshots.TryReadOnly(home.Root)!["id"]!;
        Assert.Contains($"posttrain resume {id} --home {home.Root}", r.Stderr);
        Assert.Equal("Interrupted", (string?)Snapshots.TryReadOnly(home.Root)!["state"]);
        var status = await Posttrain.RunAsync(home.Root, "status", id, "--json");
        Assert.Equal("Interrupted", (string?)JsonNode.Parse(status.Stdout)!["state"]);

        // The printed command continues it to the end.
        var resumed = await Posttrain.RunAsync(home.Root, TimeSpan.FromMinutes(3), "resume", id, "--home", home.Root, "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal("Succeeded", (string?)JsonNode.Parse(resumed.Stdout)!["state"]);
    }

    [Fact]
    public void Presets_TinyFile_SetsIterateSizes_ExplicitValuesWin()
    {
        var def = WorkflowLoader.LoadFile(Path.Combine(Posttrain.RepoRoot, "workflows", "iterate.json")).Definition!;
        var (tiny, errors) = ParameterPresets.Apply(def, new Dictionary<string, string> { ["preset"] = "tiny", ["prompts"] = "30" });
        Assert.Empty(errors);
        Assert.Equal("1500", tiny["examples"]);
        Assert.Equal("120", tiny["pretrainSteps"]);
        Assert.Equal("30", tiny["prompts"]);   // given explicitly: the preset does not override it
        var (small, _) = ParameterPresets.Apply(def, new Dictionary<string, string>());
        Assert.False(small.ContainsKey("examples"));   // small: the workflow's own defaults
        // A workflow the preset does not list keeps its defaults.
        var pretrain = WorkflowLoader.LoadFile(Path.Combine(Posttrain.RepoRoot, "workflows", "pretrain.json")).Definition!;
        Assert.False(ParameterPresets.Apply(pretrain, new Dictionary<string, string> { ["preset"] = "tiny" }).Parameters.ContainsKey("prompts"));
    }

    [Fact]
    public void Presets_BadValue_NamesFileFieldAndReason()
    {
        using var home = new TempHome("preset");
        var dir = Path.Combine(home.Root, "wf");
        Directory.CreateDirectory(Path.Combine(dir, "presets"));
        File.Copy(Path.Combine(Posttrain.RepoRoot, "workflows", "iterate.json"), Path.Combine(dir, "iterate.json"));
        File.WriteAllText(Path.Combine(dir, "presets", "tiny.json"), """{"workflows": {"iterate": {"examples": 5, "nosuch": 1}}}""");
        var def = WorkflowLoader.LoadFile(Path.Combine(dir, "iterate.json")).Definition!;
        var (_, errors) = ParameterPresets.Apply(def, new Dictionary<string, string> { ["preset"] = "tiny" });
        Assert.Contains(errors, e => e.Contains("tiny.json: workflows.iterate.examples:", StringComparison.Ordinal) && e.Contains("below min 100", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("workflows.iterate.nosuch:", StringComparison.Ordinal) && e.Contains("no parameter 'nosuch'", StringComparison.Ordinal));
    }

    [Fact]
    public void Nest_JsonInStrings_BecomeObjects()
    {
        var node = JsonNode.Parse("""{"outputsJson": "{\"best\": \"sha256:ab\"}", "parametersJson": "[1, 2]", "metrics": "{\"loss\": 0.5}", "note": "[not json", "list": ["{\"k\": 1}"]}""");
        var nested = Output.Nest(node)!.AsObject();
        Assert.Equal("sha256:ab", (string?)nested["outputs"]!["best"]);
        Assert.Equal(2, nested["parameters"]!.AsArray().Count);
        Assert.Equal(0.5, nested["metrics"]!["loss"]!.GetValue<double>());
        Assert.Equal("[not json", (string?)nested["note"]);
        Assert.Equal(1, nested["list"]![0]!["k"]!.GetValue<int>());
        Assert.Null(nested["outputsJson"]);
    }

    [Fact]
    public void MarkdownRow_PipeAndNewlineInACell_StayInTheCell()
    {
        Assert.Equal(@"| a\|b | c d |", Rendering.TextTable.RowLine(["a|b", "c\nd"]));
        Assert.Equal(["| x | y |", "|---|---|"], Rendering.TextTable.HeaderLines(["x", "y"]));
    }

    [Fact]
    public async Task Iterate_HomeWorkflowWithoutPresets_GetsTheShippedPresetFiles()
    {
        using var home = new TempHome("old-home");
        Directory.CreateDirectory(Path.Combine(home.Root, "workflows"));
        File.Copy(Path.Combine(Posttrain.RepoRoot, "workflows", "iterate.json"), Path.Combine(home.Root, "workflows", "iterate.json"));
        // A bad explicit value stops the run after the presets are in place and before anything runs.
        var r = await Posttrain.RunAsync(home.Root, "iterate", "--preset", "tiny", "--param", "examples=5", "--home", home.Root);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("examples", r.Stderr);
        Assert.DoesNotContain("note: no ", r.Stderr);
        foreach (var preset in new[] { "tiny", "small", "medium" })
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Posttrain.RepoRoot, "workflows", "presets", preset + ".json")),
                await File.ReadAllTextAsync(Path.Combine(home.Root, "workflows", "presets", preset + ".json")));
        Assert.False(File.Exists(Path.Combine(home.Root, "posttrain.db")));
    }
}
