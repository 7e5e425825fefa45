using System.CommandLine;
using System.Text.Json.Nodes;
using PostTrain.Cli.Owner;
using PostTrain.Cli.Rendering;
using PostTrain.Workflows.Activities;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
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
    private const string BaseParameter = "base", RewardModelParameter = "rewardModel";

    public static Command Create()
    {
        var rounds = new Option<int>("--rounds") { Description = "Rounds of sample → reject → SFT → DPO → select (1..20)", DefaultValueFactory = _ => 6 };
        var preset = new Option<string>("--preset") { Description = "Parameter preset, workflows/presets/NAME.json: tiny (minutes, for tests) | small (the demo) | medium", DefaultValueFactory = _ => "small" };
        var param = new Option<string[]>("--param", "-p") { Description = "Any other iterate.json parameter as name=value (repeatable; wins over the preset)" };
        var seed = new Option<long>("--seed") { Description = "Run seed", DefaultValueFactory = _ => 0 };
        var device = CliOptions.Device();
        var prompts = new Option<string>("--prompts") { Description = "Your prompts: a JSONL file (imported first), a sha256: reference or the --name of an imported prompts dataset; empty = the built-in tasks" };
        var verifier = new Option<string>("--verifier") { Description = $"How your prompts' answers are checked: {Model.Prompts.Verifiers.Kinds}; default numeric when they have answers, else none" };
        var baseModel = new Option<string?>("--base") { Description = "Start from this base instead of pretraining one: a Hugging Face directory, sha256:… or a name from `posttrain model import`" };
        var rewardModel = new Option<string?>("--reward-model") { Description = "Use this reward model instead of training one: a Hugging Face LlamaForSequenceClassification directory, sha256:… or a model name" };
        var reportPrompts = new Option<int>("--report-prompts") { Description = "Held-out prompts for the report's head-to-head Elo; 0 = all", DefaultValueFactory = _ => 0 };
        var home = CliOptions.Home();
        var json = CliOptions.Json();
        var workflows = CliOptions.Workflows();
        var bus = CliOptions.Bus();
        var deployment = CliOptions.Deployment();
        var noWorker = new Option<bool>("--no-worker") { Description = "With --bus rabbitmq://…: run no activity here; workers on other machines run them all" };
        var artifactPort = CliOptions.ArtifactPort();
        var artifactHost = CliOptions.ArtifactHost();
        var heartbeatTimeout = CliOptions.HeartbeatTimeout();
        var command = new Command("iterate", "Run the Llama 3 post-training loop for N rounds on the embedded defaults and write its quality report")
            { rounds, preset, param, seed, device, prompts, verifier, reportPrompts, home, json, workflows, baseModel, rewardModel, bus, deployment, noWorker, artifactPort, artifactHost, heartbeatTimeout };
        preset.AcceptOnlyFromAmong([.. PostTrain.Model.LlamaConfig.PresetNames]);
        rounds.Validators.Add(r =>
        {
            // Runs after a failed conversion too; "abc" is then already a parse error of its own.
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, out var n) && n is < 1 or > 20) r.AddError($"--rounds is {n}, expected 1..20");
        });
        command.SetAction((p, ct) => RunAsync(p.GetValue(rounds), p.GetValue(preset)!, p.GetValue(param) ?? [], p.GetValue(seed), p.GetValue(device)!,
            p.GetValue(reportPrompts), p.GetValue(home), p.GetValue(json), p.GetValue(workflows), ct, p.GetValue(prompts), p.GetValue(verifier), p.GetValue(baseModel), p.GetValue(rewardModel),
            new Fleet(p.GetValue(bus), p.GetValue(deployment), p.GetValue(noWorker), p.GetValue(artifactPort), p.GetValue(artifactHost), p.GetValue(heartbeatTimeout))));
        return command;
    }

    private static async Task<int> RunAsync(int rounds, string preset, string[] rawParams, long seed, string device, int reportPrompts,
        string? homeOption, bool json, string[]? workflowDirs, CancellationToken ct, string? promptsOption = null, string? verifierOption = null, string? baseModel = null, string? rewardModel = null, Fleet? fleet = null)
    {
        fleet ??= new Fleet(null, null, false, null, null, null);
        Engine.Bus.BusSettings busSettings;
        Engine.Artifacts.ArtifactServerOptions artifacts;
        TimeSpan? heartbeatTimeout;
        try
        {
            busSettings = CliOptions.ResolveBus(fleet.Bus, fleet.Deployment);
            artifacts = CliOptions.ResolveArtifactServer(fleet.ArtifactPort, fleet.ArtifactHost);
            heartbeatTimeout = CliOptions.ResolveHeartbeatTimeout(fleet.HeartbeatSeconds);
        }
        catch (ArgumentException e) { return Output.Error(e.Message, CliApp.Usage); }
        if (fleet.NoWorker && busSettings.IsInMemory) return Output.Error("--no-worker: with the in-memory bus nothing else runs the activities; pass --bus rabbitmq://HOST and start workers", CliApp.Usage);
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
            // Run from anywhere: the shipped definition and presets are embedded and written to HOME/workflows once.
            var target = Path.Combine(home.Root, "workflows", Workflow + ".json");
            EmbeddedWorkflows.WriteIfMissing(Workflow, target);
            load = catalog.Load(target);
        }
        var homeWorkflows = Path.Combine(home.Root, "workflows");
        if (load.Definition is not null && string.Equals(Path.GetDirectoryName(Path.GetFullPath(load.Source)), Path.GetFullPath(homeWorkflows), StringComparison.Ordinal))
            EmbeddedWorkflows.WritePresetsIfMissing(homeWorkflows);
        var problems = WorkflowValidator.Validate(load, PostTrainApplication.Registry());
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
        if (baseModel is not null) parameters[BaseParameter] = baseModel;
        if (rewardModel is not null) parameters[RewardModelParameter] = rewardModel;
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

        // With a studio or host open on this home, the run goes to it; otherwise this process owns the home.
        IHomeOwner owner;
        try { owner = await OwnerConnection.OpenAsync(home, () => LocalHost.StartAsync(home, busSettings, dirs, "iterate", worker: !fleet.NoWorker, resumeOnStart: false, device: device, heartbeatTimeout: heartbeatTimeout, serve: true, artifacts: artifacts), ct, device); }
        catch (HomeLockedException e) { return Output.Error(e.Message); }
        await using (owner)
        {
            if (owner.Remote is { } remote && !json) Console.Error.WriteLine($"{home.Root} is owned by {remote}: the run goes to it");
            string? verifierUsed = null;
            if (!string.IsNullOrWhiteSpace(promptsOption))
            {
                var resolved = await UserPrompts.ResolveAsync(owner, new ArtifactStore(home.Root), promptsOption, verifierOption, json);
                if (resolved.Error is not null) return Output.Error(resolved.Error);
                parameters["promptSet"] = resolved.Artifact!;
                parameters["verifier"] = verifierOption ?? "";
                verifierUsed = resolved.Verifier;
            }
            try
            {
                // Paths and names become content hashes before the run starts: a bad one fails here, once, and the run records what it used.
                var models = new Workflows.Models.ModelCatalog(home.Root, new ArtifactStore(home.Root));
                foreach (var (key, option, role) in new[] { (BaseParameter, "--base", Workflows.Models.ModelCatalog.PolicyRole), (RewardModelParameter, "--reward-model", Workflows.Models.ModelCatalog.RewardModelRole) })
                    if (parameters.TryGetValue(key, out var given) && !string.IsNullOrWhiteSpace(given))
                        parameters[key] = models.Resolve(given, option, role).ToString();
            }
            catch (ArgumentException e) { return Output.Error(e.Message); }
            if (!parameters.ContainsKey("preferences"))
            {
                // Imported human data joins the checker's pairs; without any, the checker alone annotates.
                var imported = (await owner.DatasetsAsync()).Where(d => d.Kind == "preferences").Select(d => d.Artifact).Distinct().ToList();
                parameters["preferences"] = new JsonArray(imported.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()).ToJsonString();
                if (!json) Console.Error.WriteLine(imported.Count == 0
                    ? "no imported preference data: the checker annotates the base model's samples for the reward model"
                    : $"reward model data: checker-annotated pairs + {imported.Count} imported preference dataset(s)");
            }
            if (verifierUsed == Model.Prompts.Verifiers.None && parameters["preferences"] == "[]")
                return Output.Error("--verifier none: the reward model would have no pairs to learn from; import preference data first (posttrain data import FILE --kind preferences) or name a verifier");
            Guid id;
            // This command writes the report itself, with its --device and --report-prompts.
            try { id = await owner.StartRunAsync(load.Source, parameters, seed, reportByCaller: true); }
            catch (WorkflowInvalidException e) { return Output.Error(e.Message); }
            if (!json) Console.Error.WriteLine($"run {id} (iterate, {rounds} rounds, preset {preset}) started; home {home.Root}"
                + ((owner as LocalOwner)?.Host.ArtifactUrl is { } served ? $"; bus {busSettings}, artifacts served at {served}" : ""));
            RunSnapshot final;
            try { final = await RunProgressRenderer.FollowAsync(owner, id, quiet: json, ct, rounds); }
            catch (OperationCanceledException) { return await OwnerConnection.InterruptedAsync(owner, id, home); }
            if (final.State != RunState.Succeeded)
            {
                if (json) Output.WriteJson(final); else RunPrinter.Print(final);
                return CliApp.Failure;
            }
            var stored = await owner.RecordsAsync(id);
            var code = ReportCommand.Write(stored.Run, stored.Steps, stored.Metrics, home, device, reportPrompts, json);
            if (!json && Workflows.Models.RunOutputs.FinalCheckpoint(stored.Run.OutputsJson) is { } finalModel)
                Console.Out.WriteLine($"final model: {finalModel} (write it as a Hugging Face directory: posttrain export {id} --out DIR --home {home.Root})");
            return code;
        }
    }

    /// <summary>Where the run's activities go: the bus (in-memory unless given), and with a shared broker whether this process runs any itself and where it serves artifacts.</summary>
    private sealed record Fleet(string? Bus, string? Deployment, bool NoWorker, int? ArtifactPort, string? ArtifactHost, double? HeartbeatSeconds);
}
