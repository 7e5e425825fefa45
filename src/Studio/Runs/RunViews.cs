using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using PostTrain.Studio.Api;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;

namespace PostTrain.Studio.Runs;

/// <summary>Builds the monitor's views of runs from the engine's records, its live progress and the <see cref="StepJournal"/>.</summary>
public sealed class RunViews(WorkflowEngine engine, WorkflowStore store, StepJournal journal)
{
    // Definitions are immutable per hash; runs share them.
    private readonly ConcurrentDictionary<string, string> _definitions = new();

    public IReadOnlyList<RunView> List() => [.. engine.Runs().Select(r => Build(r, withLogs: false))];

    public RunView? Get(Guid id)
    {
        var run = engine.Runs().FirstOrDefault(r => r.Id == id);
        return run is null ? null : Build(run, withLogs: true);
    }

    public IReadOnlyList<MetricView> Metrics(Guid id) =>
        [.. engine.Metrics(id).OrderBy(m => m.At).ThenBy(m => m.Id)
            .Select(m => new MetricView(m.StepPath, NodeIdOf(m.StepPath), m.Round, m.Name, m.Value, m.Step, m.At))];

    public IReadOnlyList<CheckpointView> Checkpoints(Guid? runId)
    {
        var all = engine.Checkpoints().Where(c => runId is null || c.RunId == runId).OrderBy(c => c.At).ToList();
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var run in all.Select(c => c.RunId).Distinct())
            foreach (var s in engine.Steps(run).Where(s => s.State == StepState.Done && s.ActivityType.StartsWith("Select", StringComparison.Ordinal)))
                foreach (var a in Artifacts(s.OutputsJson)) selected.Add(a);
        return [.. all.Select(c => new CheckpointView(c.Id, c.Kind, c.Name, c.RunId, c.StepPath, c.Round, c.Sampler, c.Parent, c.RewardModel,
            c.Kind == "selected" || selected.Contains(c.Id), c.At))];
    }

    public static string NodeIdOf(string stepPath)
    {
        var last = stepPath.Split('/', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } parts ? parts[^1] : stepPath;
        var bracket = last.IndexOf('[');
        return bracket > 0 ? last[..bracket] : last;
    }

    public static string StateName(StepState s) => s switch
    {
        StepState.Done => "done",
        _ => s.ToString().ToLowerInvariant(),
    };

    private RunView Build(RunRecord run, bool withLogs)
    {
        var snapshot = engine.Snapshot(run.Id);
        var progress = snapshot.Steps.ToDictionary(s => s.Path, s => s, StringComparer.Ordinal);
        var steps = engine.Steps(run.Id).Select(s =>
        {
            progress.TryGetValue(s.Path, out var p);
            var running = s.State is StepState.Running or StepState.Dispatched;
            return new StepView(s.Path, s.NodeId.Length > 0 ? s.NodeId : NodeIdOf(s.Path), s.ActivityType, StateName(s.State), s.Attempt, s.Failures,
                journal.WorkerOf(run.Id, s.Path) ?? s.Worker, running || s.State == StepState.Done ? (s.State == StepState.Done ? 1 : p?.Progress) : null,
                running ? p?.Message : null, s.Round, s.StartedAt, s.FinishedAt, s.Error, s.FromCache, s.OutputsJson,
                withLogs ? journal.LogOf(run.Id, s.Path) : []);
        }).ToList();
        return new RunView(run.Id, run.WorkflowId, run.State.ToString().ToLowerInvariant(), run.CreatedAt, run.StartedAt, run.FinishedAt, run.Error,
            Parse(run.ParametersJson), Parse(run.OutputsJson), run.Seed, run.Trigger, DefinitionOf(run), steps);
    }

    private string DefinitionOf(RunRecord run) =>
        _definitions.GetOrAdd(run.DefinitionHash, id => store.Definitions.FindById(id)?.Json ?? "");

    private static JsonNode? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try { return JsonNode.Parse(json); }
        catch (System.Text.Json.JsonException) { return JsonValue.Create(json); }
    }

    private static IEnumerable<string> Artifacts(string? outputsJson)
    {
        if (Parse(outputsJson) is not { } node) yield break;
        var stack = new Stack<JsonNode?>([node]);
        while (stack.Count > 0)
            switch (stack.Pop())
            {
                case JsonObject o: foreach (var (_, v) in o) stack.Push(v); break;
                case JsonArray a: foreach (var v in a) stack.Push(v); break;
                case JsonValue v when v.TryGetValue<string>(out var s) && s.StartsWith(ArtifactRef.Prefix, StringComparison.Ordinal): yield return s; break;
            }
    }
}
