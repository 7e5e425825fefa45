using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Engine.Definitions;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Runtime;

/// <summary>
/// A pure function from (definition, parameters, step records) to the next steps. The engine keeps no other state:
/// containers, rounds and joins are re-derived from the persisted steps after every transition, which is what makes
/// resume after a crash exact. Rounds of a repeat run in sequence; forEach iterations and independent activities of
/// a scope run in parallel; a container is done when its whole body is done (the join).
/// </summary>
public static class WorkflowPlanner
{
    public static RunPlan Plan(WorkflowDefinition def, JsonObject parameters, IReadOnlyDictionary<string, StepRecord> steps)
    {
        var state = new PlanState(def, parameters, steps);
        var top = new Env(null, null);
        var complete = state.EvalScope(def.Activities, top, "");
        JsonObject? outputs = null;
        if (complete)
        {
            outputs = new JsonObject();
            foreach (var (name, value) in def.Outputs) outputs[name] = state.Resolve(value, top);
        }
        return new RunPlan(state.Ready, complete, outputs, state.Rounds);
    }

    private sealed class Env(Env? parent, ActivityNode? container)
    {
        public Env? Parent { get; } = parent;
        public ActivityNode? Container { get; } = container;
        public Dictionary<string, JsonObject> Local { get; } = new(StringComparer.Ordinal);
        public int Index { get; init; }
        public JsonNode? Item { get; init; }
        public Dictionary<string, JsonObject>? Previous { get; init; }
    }

    private sealed class PlanState(WorkflowDefinition def, JsonObject parameters, IReadOnlyDictionary<string, StepRecord> steps)
    {
        public List<ReadyStep> Ready { get; } = [];
        public List<RoundStatus> Rounds { get; } = [];

        public bool EvalScope(IReadOnlyList<ActivityNode> nodes, Env env, string prefix)
        {
            var ids = nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
            var deps = nodes.ToDictionary(n => n.Id, n => ReferenceRules.DependenciesIn(n, ids, def.Connections));
            var evaluated = new HashSet<string>(StringComparer.Ordinal);
            bool progressed;
            do
            {
                progressed = false;
                foreach (var n in nodes)
                {
                    if (evaluated.Contains(n.Id) || !deps[n.Id].All(env.Local.ContainsKey)) continue;
                    evaluated.Add(n.Id);
                    EvalNode(n, env, prefix);
                    if (env.Local.ContainsKey(n.Id)) progressed = true;
                }
            } while (progressed);
            return nodes.All(n => env.Local.ContainsKey(n.Id));
        }

        private void EvalNode(ActivityNode n, Env env, string prefix)
        {
            var path = prefix + n.Id;
            if (n.IsRepeat)
            {
                var countNode = Resolve(n.Count!, env);
                if (countNode is not JsonValue cv || !cv.TryGetValue<int>(out var count) || count is < 1 or > WorkflowLimits.MaxRepeatCount)
                    throw new PlanException($"{n.Count!.Path}: repeat count must be an integer between 1 and {WorkflowLimits.MaxRepeatCount}, got {countNode?.ToJsonString() ?? "null"}");
                Dictionary<string, JsonObject>? previous = null;
                Env? last = null;
                for (var r = 0; r < count; r++)
                {
                    var child = new Env(env, n) { Index = r, Previous = previous };
                    var done = EvalScope(n.Body, child, $"{path}[{r}]/");
                    Rounds.Add(new RoundStatus(path, r, done));
                    if (!done) return;
                    previous = child.Local;
                    last = child;
                }
                var outputs = new JsonObject();
                foreach (var (name, value) in n.Outputs) outputs[name] = Resolve(value, last!);
                outputs[ReferenceRules.BuiltinOutput(n)!] = count;
                env.Local[n.Id] = outputs;
                return;
            }
            if (n.IsForEach)
            {
                var itemsNode = Resolve(n.Items!, env);
                if (itemsNode is not JsonArray items)
                    throw new PlanException($"{n.Items!.Path}: forEach items must be a list, got {itemsNode?.ToJsonString() ?? "null"}");
                var children = new List<Env>();
                var all = true;
                for (var i = 0; i < items.Count; i++)
                {
                    var child = new Env(env, n) { Index = i, Item = items[i] };
                    all &= EvalScope(n.Body, child, $"{path}[{i}]/");
                    children.Add(child);
                }
                if (!all) return;
                var outputs = new JsonObject();
                foreach (var (name, value) in n.Outputs)
                    outputs[name] = new JsonArray([.. children.Select(c => Resolve(value, c))]);
                outputs[ReferenceRules.BuiltinOutput(n)!] = items.Count;
                env.Local[n.Id] = outputs;
                return;
            }
            if (!steps.TryGetValue(path, out var step))
            {
                var inputs = new JsonObject();
                foreach (var (name, value) in n.Inputs) inputs[name] = Resolve(value, env);
                Ready.Add(new ReadyStep(path, n, inputs, CurrentRound(env)));
                return;
            }
            if (step.State == StepState.Done)
                env.Local[n.Id] = JsonNode.Parse(step.OutputsJson ?? "{}")!.AsObject();
        }

        private static int? CurrentRound(Env env)
        {
            for (var e = env; e is not null; e = e.Parent)
                if (e.Container is { } c && ReferenceRules.Binds(c, ReferenceRules.Round)) return e.Index;
            return null;
        }

        public JsonNode? Resolve(InputValue v, Env env)
        {
            switch (v.Kind)
            {
                case InputKind.Literal:
                    return v.Literal?.DeepClone();
                case InputKind.Param:
                {
                    var (head, tail) = ReferenceRules.Split(v.Name!);
                    if (!parameters.TryGetPropertyValue(head, out var p)) throw new PlanException($"{v.Path}: parameter '{head}' has no value");
                    return Navigate(p, tail, v.Path);
                }
                case InputKind.Var:
                {
                    var (head, tail) = ReferenceRules.Split(v.Name!);
                    for (var e = env; e is not null; e = e.Parent)
                    {
                        if (e.Container is not { } c || !ReferenceRules.Binds(c, head)) continue;
                        return ReferenceRules.IsCounter(head) ? e.Index : Navigate(e.Item, tail, v.Path);
                    }
                    throw new PlanException($"{v.Path}: variable '{head}' is not defined here");
                }
                case InputKind.From:
                    for (var e = env; e is not null; e = e.Parent)
                        if (e.Local.TryGetValue(v.Activity!, out var outputs))
                            return outputs.TryGetPropertyValue(v.Output!, out var o)
                                ? o?.DeepClone()
                                : throw new PlanException($"{v.Path}: '{v.Activity}' produced no output '{v.Output}' (outputs: {string.Join(", ", outputs.Select(kv => kv.Key))})");
                    throw new PlanException($"{v.Path}: '{v.Activity}.{v.Output}' is not available yet");
                case InputKind.FromPrevious:
                    for (var e = env; e is not null; e = e.Parent)
                    {
                        if (e.Container is not { } c || !ReferenceRules.KeepsPreviousRound(c)) continue;
                        if (e.Previous is null) return Resolve(v.Initial!, env);
                        return e.Previous.TryGetValue(v.Activity!, out var prev) && prev.TryGetPropertyValue(v.Output!, out var po)
                            ? po?.DeepClone()
                            : throw new PlanException($"{v.Path}: previous round has no '{v.Activity}.{v.Output}'");
                    }
                    throw new PlanException($"{v.Path}: fromPrevious outside a repeat");
                default:
                    throw new PlanException($"{v.Path}: unknown input kind {v.Kind}");
            }
        }

        private static JsonNode? Navigate(JsonNode? node, string? tail, string path)
        {
            if (tail is null) return node?.DeepClone();
            foreach (var part in tail.Split('.'))
            {
                if (node is not JsonObject o || !o.TryGetPropertyValue(part, out node))
                    throw new PlanException($"{path}: no field '{part}' in {node?.ToJsonString() ?? "null"}");
            }
            return node?.DeepClone();
        }

    }

    /// <summary>JSON with object keys sorted, so equal values hash equally.</summary>
    public static string Canonical(JsonNode? node)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms)) Write(node, w);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());

        static void Write(JsonNode? n, Utf8JsonWriter w)
        {
            switch (n)
            {
                case null: w.WriteNullValue(); break;
                case JsonObject o:
                    w.WriteStartObject();
                    foreach (var kv in o.OrderBy(kv => kv.Key, StringComparer.Ordinal)) { w.WritePropertyName(kv.Key); Write(kv.Value, w); }
                    w.WriteEndObject();
                    break;
                case JsonArray a:
                    w.WriteStartArray();
                    foreach (var x in a) Write(x, w);
                    w.WriteEndArray();
                    break;
                default: n.WriteTo(w); break;
            }
        }
    }
}
