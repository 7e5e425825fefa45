using System.CommandLine;
using System.Text.Json.Nodes;
using PostTrain.Cli.Rendering;
using PostTrain.Workflows.Activities;
using PostTrain.Workflows.Definitions;
using PostTrain.Workflows.Engine;
using PostTrain.Workflows.Store;
using PostTrain.Workflows.Validation;
using Spectre.Console;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain iterate --rounds N</c>: the Llama 3 loop (workflows/iterate.json) on embedded defaults — in-memory bus,
/// LiteDB in the home, CPU, the small preset — then the per-round table and the quality report.
/// </summary>
public static class IterateCommand
{
    public const string Workflow = "iterate";

    /// <summary>Sizes that make a whole run a matter of minutes for the tiny preset (tests, smoke runs).</summary>
    private static readonly Dictionary<string, string> TinySizes = new()
    {
        ["examples"] = "1500", ["prompts"] = "24", ["heldOut"] = "32", ["annotationPrompts"] = "48", ["referencePrompts"] = "200", ["samplesPerPrompt"] = "4",
        ["pretrainSteps"] = "120", ["shards"] = "[0]", ["shardCount"] = "1",
    };

    public static Command Create()
    {
        var rounds = new Option<int>("--rounds") { Description = "Rounds of sample → reject → SFT → DPO → select", DefaultValueFactory = _ => 6 };
        var preset = new Option<string>("--preset") { Description = "tiny (minutes, for tests) | small (the demo) | medium", DefaultValueFactory = _ => "small" };
        var param = new Option<string[]>("--param", "-p") { Description = "Any other iterate.json parameter as name=value (repeatable)" };
        var seed = new Option<long>("--seed") { Description = "Run seed", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu | cuda", DefaultValueFactory = _ => "cpu" };
        var baseModel = new Option<string>("--base") { Description = "Start from this checkpoint (sha256:… in this home) instead of pretraining one" };
        var prompts = new Option<string>("--prompts") { Description = "Your prompts: a JSONL file (imported first), a sha256: reference or the --name of an imported prompts dataset; empty = the built-in tasks" };
        var verifier = new Option<string>("--verifier") { Description = $"How your prompts' answers are checked: {Model.Prompts.Verifiers.Kinds}; default numeric when they have answers, else none" };
        var reportPrompts = new Option<int>("--report-prompts") { Description = "Held-out prompts for the report's head-to-head Elo; 0 = all", DefaultValueFactory = _ => 0 };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var workflows = CliOptions.Workflows();
        var command = new Command("iterate", "Run the Llama 3 post-training loop for N rounds on the embedded defaults and write its quality report")
            { rounds, preset, param, seed, device, baseModel, prompts, verifier, reportPrompts, home, json, workflows };
        preset.AcceptOnlyFromAmong([.. PostTrain.Model.LlamaConfig.PresetNames]);
        rounds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 20) r.AddError($"--rounds is {r.GetValueOrDefault<int>()}, expected 1..20");
        });
        command.SetAction((p, ct) => RunAsync(p.GetValue(rounds), p.GetValue(preset)!, p.GetValue(param) ?? [], p.GetValue(seed), p.GetValue(device)!,
            p.GetValue(reportPrompts), p.GetValue(home), p.GetValue(json), p.GetValue(workflows), ct, p.GetValue(prompts), p.GetValue(verifier), p.GetValue(baseModel)));
        return command;
    }

    private static async Task<int> RunAsync(int rounds, string preset, string[] rawParams, long seed, string device, int reportPrompts,
        string? homeOption, bool json, string[]? workflowDirs, CancellationToken ct, string? promptsOption = null, string? verifierOption = null, string? baseOption = null)
    {
        if (!string.IsNullOrWhiteSpace(baseOption) && !baseOption.StartsWith("sha256:", StringComparison.Ordinal))
            return Output.Error($"--base: '{baseOption}' is not a sha256: reference; give the reference of a checkpoint in this home", CliApp.Usage);
        if (!string.IsNullOrWhiteSpace(verifierOption))
        {
            if (string.IsNullOrWhiteSpace(promptsOption)) return Output.Error("--verifier checks your prompts' answers: pass --prompts FILE|REF too", CliApp.Usage);
            try { Model.Prompts.Verifiers.Parse(verifierOption); }
            catch (ArgumentException e) { return Output.Error($"--{e.Message}", CliApp.Usage); }
        }
        var home = PostTrainHome.Resolve(homeOption);
        var dirs = CliOptions.WorkflowDirectories(workflowDirs, home).ToList();
        var catalog = new WorkflowCatalog(dirs);
        var load = catalog.Load(Workflow);
        if (load.Definition is null && load.Problems.Count > 0 && !dirs.Any(d => File.Exists(Path.Combine(d, Workflow + ".json"))))
        {
            // Run from anywhere: the shipped definition is embedded and written to HOME/workflows once.
            var target = Path.Combine(home.Root, "workflows", Workflow + ".json");
            EmbeddedWorkflows.WriteIfMissing(Workflow, target);
            load = catalog.Load(target);
        }
        var problems = WorkflowValidator.Validate(load, ActivityRegistry.Default());
        if (problems.Count > 0)
        {
            foreach (var pr in problems) Console.Error.WriteLine(pr.Format(load.Source));
            return Output.Error($"{load.Source}: {problems.Count} problem(s); nothing was run");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal) { ["rounds"] = rounds.ToString(System.Globalization.CultureInfo.InvariantCulture), ["preset"] = preset };
        if (preset == "tiny") foreach (var (k, v) in TinySizes) parameters[k] = v;
        if (!string.IsNullOrWhiteSpace(baseOption)) parameters["base"] = baseOption.Trim();
        foreach (var kv in rawParams)
        {
            var eq = kv.IndexOf('=');
            if (eq <= 0) return Output.Error($"--param '{kv}': expected name=value", CliApp.Usage);
            parameters[kv[..eq]] = kv[(eq + 1)..];
        }
        var (_, bindErrors) = ParameterBinder.Bind(load.Definition!, parameters);
        if (bindErrors.Count > 0)
        {
            foreach (var e in bindErrors) Console.Error.WriteLine($"{load.Source}: {e}");
            return Output.Error($"{load.Source}: bad parameters; nothing was run", CliApp.Usage);
        }

        LocalHost host;
        try { host = await LocalHost.StartAsync(home, Workflows.Bus.BusSettings.Resolve(null, null), dirs, "iterate", worker: true, resumeOnStart: false, device: device); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (host)
        {
            var engine = host.Engine;
            string? verifierUsed = null;
            if (!string.IsNullOrWhiteSpace(promptsOption))
            {
                var resolved = UserPrompts.Resolve(host, promptsOption, verifierOption, json);
                if (resolved.Error is not null) return Output.Error(resolved.Error);
                parameters["promptSet"] = resolved.Artifact!;
                parameters["verifier"] = verifierOption ?? "";
                verifierUsed = resolved.Verifier;
            }
            if (!parameters.ContainsKey("preferences"))
            {
                // Imported human data joins the checker's pairs; without any, the checker alone annotates.
                var imported = engine.Datasets().Where(d => d.Kind == "preferences").Select(d => d.Artifact).Distinct().ToList();
                parameters["preferences"] = new JsonArray(imported.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()).ToJsonString();
                if (!json) Console.Error.WriteLine(imported.Count == 0
                    ? "no imported preference data: the checker annotates the base model's samples for the reward model"
                    : $"reward model data: checker-annotated pairs + {imported.Count} imported preference dataset(s)");
            }
            if (verifierUsed == Model.Prompts.Verifiers.None && parameters["preferences"] == "[]")
                return Output.Error("--verifier none: the reward model would have no pairs to learn from; import preference data first (posttrain data import FILE --kind preferences) or name a verifier");
            Guid id;
            try { id = await host.Launcher.StartAsync(load.Source, parameters, seed); }
            catch (WorkflowInvalidException e) { return Output.Error(e.Message); }
            if (!json) Console.Error.WriteLine($"run {id} (iterate, {rounds} rounds, preset {preset}) started; home {home.Root}");
            RunSnapshot final;
            try { final = await RunProgressRenderer.FollowAsync(engine, id, quiet: json, ct); }
            catch (OperationCanceledException)
            {
                return Output.Error($"interrupted; run {id} stays resumable: posttrain resume {id} --home {home.Root}");
            }
            if (final.State != RunState.Succeeded)
            {
                if (json) Output.WriteJson(final); else RunPrinter.Print(final);
                return CliApp.Failure;
            }
            var run = engine.Runs().Single(r => r.Id == id);
            return ReportCommand.Write(run, engine.Steps(id), engine.Metrics(id), home, device, reportPrompts, json);
        }
    }
}
