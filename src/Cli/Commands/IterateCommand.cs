using System.CommandLine;
using System.Text.Json.Nodes;
using PostTrain.Cli.Rendering;
using PostTrain.Workflows.Activities;
using PostTrain.Workflows.Definitions;
using PostTrain.Workflows.Engine;
using PostTrain.Workflows.Store;
using PostTrain.Workflows.Validation;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain iterate --rounds N</c>: the Llama 3 loop (workflows/iterate.json) on embedded defaults — in-memory bus,
/// LiteDB in the home, CPU, the small preset — then the per-round table and the quality report. <c>--preset</c> is the
/// workflow's <c>preset</c> parameter; its sizes come from <c>workflows/presets/NAME.json</c> (<see cref="ParameterPresets"/>).
/// </summary>
public static class IterateCommand
{
    public const string Workflow = "iterate";

    public static Command Create()
    {
        var rounds = new Option<int>("--rounds") { Description = "Rounds of sample → reject → SFT → DPO → select (1..20)", DefaultValueFactory = _ => 6 };
        var preset = new Option<string>("--preset") { Description = "Parameter preset, workflows/presets/NAME.json: tiny (minutes, for tests) | small (the demo) | medium", DefaultValueFactory = _ => "small" };
        var param = new Option<string[]>("--param", "-p") { Description = "Any other iterate.json parameter as name=value (repeatable; wins over the preset)" };
        var seed = new Option<long>("--seed") { Description = "Run seed", DefaultValueFactory = _ => 0 };
        var device = CliOptions.Device();
        var reportPrompts = new Option<int>("--report-prompts") { Description = "Held-out prompts for the report's head-to-head Elo; 0 = all", DefaultValueFactory = _ => 0 };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var workflows = CliOptions.Workflows();
        var command = new Command("iterate", "Run the Llama 3 post-training loop for N rounds on the embedded defaults and write its quality report")
            { rounds, preset, param, seed, device, reportPrompts, home, json, workflows };
        preset.AcceptOnlyFromAmong([.. PostTrain.Model.LlamaConfig.PresetNames]);
        rounds.Validators.Add(r =>
        {
            // Runs after a failed conversion too; "abc" is then already a parse error of its own.
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, out var n) && n is < 1 or > 20) r.AddError($"--rounds is {n}, expected 1..20");
        });
        command.SetAction((p, ct) => RunAsync(p.GetValue(rounds), p.GetValue(preset)!, p.GetValue(param) ?? [], p.GetValue(seed), p.GetValue(device)!,
            p.GetValue(reportPrompts), p.GetValue(home), p.GetValue(json), p.GetValue(workflows), ct));
        return command;
    }

    private static async Task<int> RunAsync(int rounds, string preset, string[] rawParams, long seed, string device, int reportPrompts,
        string? homeOption, bool json, string[]? workflowDirs, CancellationToken ct)
    {
        var home = PostTrainHome.Resolve(homeOption);
        var dirs = CliOptions.WorkflowDirectories(workflowDirs, home).ToList();
        var catalog = new WorkflowCatalog(dirs);
        var load = catalog.Load(Workflow);
        if (load.Definition is null && load.Problems.Count > 0 && !dirs.Any(d => File.Exists(Path.Combine(d, Workflow + ".json"))))
        {
            // Run from anywhere: the shipped definition and presets are embedded and written to HOME/workflows once.
            var target = Path.Combine(home.Root, "workflows", Workflow + ".json");
            EmbeddedWorkflows.WriteIfMissing(Workflow, target);
            load = catalog.Load(target);
        }
        var homeWorkflows = Path.Combine(home.Root, "workflows");
        if (load.Definition is not null && string.Equals(Path.GetDirectoryName(Path.GetFullPath(load.Source)), Path.GetFullPath(homeWorkflows), StringComparison.Ordinal))
            EmbeddedWorkflows.WritePresetsIfMissing(homeWorkflows);
        var problems = WorkflowValidator.Validate(load, ActivityRegistry.Default());
        if (problems.Count > 0)
        {
            foreach (var pr in problems) Console.Error.WriteLine(pr.Format(load.Source));
            return Output.Error($"{load.Source}: {problems.Count} problem(s); nothing was run");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal) { ["rounds"] = rounds.ToString(System.Globalization.CultureInfo.InvariantCulture), [ParameterPresets.Parameter] = preset };
        foreach (var kv in rawParams)
        {
            var eq = kv.IndexOf('=');
            if (eq <= 0) return Output.Error($"--param '{kv}': expected name=value", CliApp.Usage);
            parameters[kv[..eq]] = kv[(eq + 1)..];
        }
        if (!File.Exists(ParameterPresets.FileOf(load.Source, preset)))
            Console.Error.WriteLine($"note: no {ParameterPresets.FileOf(load.Source, preset)}: preset '{preset}' sets the network only; the sizes are iterate.json's defaults");
        // The launcher applies the preset file the same way; checked here too so a bad value fails before the home is touched.
        var (withPreset, presetErrors) = ParameterPresets.Apply(load.Definition!, parameters);
        var (_, bindErrors) = ParameterBinder.Bind(load.Definition!, withPreset);
        if (presetErrors.Count + bindErrors.Count > 0)
        {
            foreach (var e in presetErrors.Concat(bindErrors)) Console.Error.WriteLine($"{load.Source}: {e}");
            return Output.Error($"{load.Source}: bad parameters; nothing was run", CliApp.Usage);
        }

        LocalHost host;
        try { host = await LocalHost.StartAsync(home, Workflows.Bus.BusSettings.Resolve(null, null), dirs, "iterate", worker: true, resumeOnStart: false, device: device); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (host)
        {
            var engine = host.Engine;
            if (!parameters.ContainsKey("preferences"))
            {
                // Imported human data joins the checker's pairs; without any, the checker alone annotates.
                var imported = engine.Datasets().Where(d => d.Kind == "preferences").Select(d => d.Artifact).Distinct().ToList();
                parameters["preferences"] = new JsonArray(imported.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()).ToJsonString();
                if (!json) Console.Error.WriteLine(imported.Count == 0
                    ? "no imported preference data: the checker annotates the base model's samples for the reward model"
                    : $"reward model data: checker-annotated pairs + {imported.Count} imported preference dataset(s)");
            }
            Guid id;
            try { id = await host.Launcher.StartAsync(load.Source, parameters, seed); }
            catch (WorkflowInvalidException e) { return Output.Error(e.Message); }
            if (!json) Console.Error.WriteLine($"run {id} (iterate, {rounds} rounds, preset {preset}) started; home {home.Root}");
            RunSnapshot final;
            try { final = await RunProgressRenderer.FollowAsync(engine, id, quiet: json, ct, rounds); }
            catch (OperationCanceledException) { return await host.InterruptedAsync(id, home); }
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
