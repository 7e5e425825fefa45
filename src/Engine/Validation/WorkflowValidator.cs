using System.Text.RegularExpressions;
using FluentValidation;
using FluentValidation.Results;
using PostTrain.Engine.Activities;
using PostTrain.Engine.Definitions;

namespace PostTrain.Engine.Validation;

/// <summary>
/// Checks a definition against the activity registry and reports every problem at once, each named by its JSON
/// path (the failure's PropertyName): unknown types, unknown/missing inputs, type mismatches, references to outputs
/// that do not exist or are not produced at that point, cycles, parameters out of range, duplicate ids.
/// </summary>
public sealed partial class WorkflowValidator : AbstractValidator<WorkflowDefinition>
{
    private static readonly HashSet<string> Pools = ["cpu", "gpu"];

    public WorkflowValidator(ActivityRegistry registry)
    {
        RuleFor(d => d.Id).NotEmpty().OverridePropertyName("$.id").WithMessage("the workflow needs a non-empty id");
        RuleFor(d => d.Version).GreaterThanOrEqualTo(1).OverridePropertyName("$.version").WithMessage("version must be >= 1, got {PropertyValue}");
        RuleFor(d => d.Activities).NotEmpty().OverridePropertyName("$.activities").WithMessage("the workflow has no activities");
        RuleFor(d => d).Custom((d, ctx) => CheckParameters(d, ctx));
        RuleFor(d => d).Custom((d, ctx) => CheckTriggers(d, registry.Triggers, ctx));
        RuleFor(d => d).Custom((d, ctx) => new GraphCheck(d, registry, ctx).Run());
    }

    /// <summary>Loader problems plus validator failures, as one list.</summary>
    public static IReadOnlyList<WorkflowProblem> Validate(WorkflowLoadResult load, ActivityRegistry registry)
    {
        var problems = new List<WorkflowProblem>(load.Problems);
        if (load.Definition is not null)
            problems.AddRange(new WorkflowValidator(registry).Validate(load.Definition).Errors.Select(e => new WorkflowProblem(e.PropertyName, e.ErrorMessage)));
        return problems;
    }

    private static void CheckParameters(WorkflowDefinition d, ValidationContext<WorkflowDefinition> ctx)
    {
        foreach (var p in d.Parameters.Values)
        {
            if (!IdPattern().IsMatch(p.Name)) ctx.AddFailure(new ValidationFailure(p.Path, $"parameter name '{p.Name}' must match {IdPattern()}"));
            if (p.Min is { } min && p.Max is { } max && min > max) ctx.AddFailure(new ValidationFailure($"{p.Path}.min", $"min {min} is above max {max}"));
            if ((p.Min is not null || p.Max is not null) && p.Type is not (PortTypes.Int or PortTypes.Number))
                ctx.AddFailure(new ValidationFailure(p.Path, $"min/max apply to int or number parameters, not {p.Type}"));
            if (!p.HasDefault) continue;
            if (ParameterBinder.Check(p, p.Default) is { } error) ctx.AddFailure(new ValidationFailure($"{p.Path}.default", error));
        }
    }

    private static void CheckTriggers(WorkflowDefinition d, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> known, ValidationContext<WorkflowDefinition> ctx)
    {
        foreach (var t in d.Triggers)
        {
            if (!known.TryGetValue(t.Event, out var payload))
            {
                ctx.AddFailure(new ValidationFailure(t.Path, $"unknown trigger '{t.Event}'; known: {(known.Count == 0 ? "none" : string.Join(", ", known.Keys))}"));
                continue;
            }
            foreach (var (param, field) in t.Parameters)
            {
                if (!d.Parameters.TryGetValue(param, out var pd))
                    ctx.AddFailure(new ValidationFailure($"{t.Path}.parameters.{param}", $"no parameter '{param}' in $.parameters"));
                else if (!payload.TryGetValue(field, out var ft))
                    ctx.AddFailure(new ValidationFailure($"{t.Path}.parameters.{param}", $"{t.Event} has no field '{field}'; fields: {string.Join(", ", payload.Keys)}"));
                else if (!PortTypes.IsAssignable(ft, pd.Type))
                    ctx.AddFailure(new ValidationFailure($"{t.Path}.parameters.{param}", $"field '{field}' is {ft} but parameter '{param}' is {pd.Type}"));
            }
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$")]
    internal static partial Regex IdPattern();

    /// <summary>Scope-aware checks of nodes and references.</summary>
    private sealed class GraphCheck(WorkflowDefinition def, ActivityRegistry registry, ValidationContext<WorkflowDefinition> ctx)
    {
        private sealed record Scope(IReadOnlyList<ActivityNode> Nodes, Scope? Parent, ActivityNode? Container);

        private readonly Dictionary<string, (ActivityNode Node, Scope Scope)> _all = new(StringComparer.Ordinal);
        private readonly HashSet<string> _typing = [];

        private void Fail(string path, string message) => ctx.AddFailure(new ValidationFailure(path, message));

        public void Run()
        {
            var top = new Scope(def.Activities, null, null);
            Index(top);
            CheckScope(top);
            foreach (var (name, value) in def.Outputs) TypeOf(value, top);
            foreach (var c in def.Connections) CheckConnection(c);
        }

        private void Index(Scope scope)
        {
            foreach (var n in scope.Nodes)
            {
                if (n.Id.Length > 0 && !IdPattern().IsMatch(n.Id))
                    Fail($"{n.Path}.id", $"id '{n.Id}' must match {IdPattern()} (no dots: references are \"id.output\")");
                if (_all.TryGetValue(n.Id, out var first))
                    Fail($"{n.Path}.id", $"duplicate id '{n.Id}'; first used at {first.Node.Path}");
                else if (n.Id.Length > 0)
                    _all[n.Id] = (n, scope);
                if (n.IsContainer) Index(new Scope(n.Body, scope, n));
            }
        }

        private Scope? ScopeOf(ActivityNode n) => _all.TryGetValue(n.Id, out var e) && ReferenceEquals(e.Node, n) ? e.Scope : null;

        private void CheckScope(Scope scope)
        {
            foreach (var n in scope.Nodes) CheckNode(n, scope);
            CheckCycles(scope);
        }

        private void CheckNode(ActivityNode n, Scope scope)
        {
            if (n.Pool is not null && !Pools.Contains(n.Pool))
                Fail($"{n.Path}.pool", $"unknown pool '{n.Pool}'; expected cpu or gpu");
            if (n.Retry is { } r)
            {
                if (r.MaxAttempts is < 1 or > WorkflowLimits.MaxAttempts)
                    Fail($"{n.Path}.retry.maxAttempts", $"must be between 1 and {WorkflowLimits.MaxAttempts}, got {r.MaxAttempts}");
                if (!double.IsFinite(r.BackoffSeconds) || r.BackoffSeconds is < 0 or > WorkflowLimits.MaxBackoffSeconds)
                    Fail($"{n.Path}.retry.backoffSeconds", $"must be between 0 and {WorkflowLimits.MaxBackoffSeconds} seconds, got {r.BackoffSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            }
            if (n.IsContainer)
            {
                CheckContainer(n, scope);
                return;
            }
            if (n.Type.Length == 0) return; // reported by the loader
            if (!registry.TryGet(n.Type, out var desc))
            {
                var known = registry.Descriptors.Select(x => x.Type).ToList();
                Fail($"{n.Path}.type", $"unknown activity type '{n.Type}': no class in this build has [Activity(\"{n.Type}\")] " +
                    $"(known: {string.Join(", ", known)}; containers: repeat, forEach). Stage activities belong in src/Workflows/Activities/Stages.");
                foreach (var v in n.Inputs.Values) TypeOf(v, scope);
                return;
            }
            foreach (var (name, value) in n.Inputs)
            {
                var port = desc.Input(name);
                var actual = TypeOf(value, scope);
                if (port is null)
                {
                    Fail(value.Path, $"{n.Type} has no input '{name}'; inputs: {string.Join(", ", desc.Inputs.Select(i => i.Name))}");
                    continue;
                }
                if (value.Kind == InputKind.Literal)
                {
                    if (PortTypes.Check(value.Literal, port.Type) is { } e) Fail(value.Path, $"type mismatch for {n.Type}.{name}: {e}");
                    else if (port.Allowed is { } allowed && value.Literal?.GetValue<object>()?.ToString() is { } s && !allowed.Contains(s, StringComparer.OrdinalIgnoreCase))
                        Fail(value.Path, $"'{s}' is not one of {string.Join(", ", allowed)}");
                    else if (Number(value.Literal) is { } x && port.OutOfRange(x) is { } range)
                        Fail(value.Path, $"{n.Type}.{range}");
                }
                else if (value.Kind == InputKind.Param && (port.Min is not null || port.Max is not null)) CheckParameterRange(value, port, n.Type);
                else if (actual is not null && !PortTypes.IsAssignable(actual, port.Type))
                    Fail(value.Path, $"type mismatch for {n.Type}.{name}: expected {port.Type}, {value} is {actual}");
            }
            foreach (var port in desc.Inputs.Where(p => p.Required && !n.Inputs.ContainsKey(p.Name)))
                Fail($"{n.Path}.inputs", $"missing required input '{port.Name}' ({port.Type}) of {n.Type}");
        }

        private void CheckContainer(ActivityNode n, Scope scope)
        {
            var body = new Scope(n.Body, scope, n);
            if (n.IsRepeat && n.Count is { } count)
            {
                var t = TypeOf(count, scope);
                if (count.Kind == InputKind.Literal && count.Literal is not null && (t != PortTypes.Int || count.Literal.GetValue<long>() is < 1 or > WorkflowLimits.MaxRepeatCount))
                    Fail(count.Path, $"repeat count must be an integer between 1 and {WorkflowLimits.MaxRepeatCount}, got {count.Literal.ToJsonString()}");
                else if (count.Kind == InputKind.Param && count.Name is { } pn && def.Parameters.TryGetValue(pn, out var cp)
                    && (Number(cp.HasDefault ? cp.Default : null) is < 1 or > WorkflowLimits.MaxRepeatCount || cp.Max > WorkflowLimits.MaxRepeatCount))
                    Fail(count.Path, $"repeat count must be between 1 and {WorkflowLimits.MaxRepeatCount}; parameter '{pn}' allows {(cp.Max > WorkflowLimits.MaxRepeatCount ? $"up to {cp.Max}" : $"the default {cp.Default?.ToJsonString()}")}");
                else if (t is not null && t != PortTypes.Int && t != PortTypes.Json)
                    Fail(count.Path, $"repeat count must be int, {count} is {t}");
            }
            if (n.IsForEach && n.Items is { } items)
            {
                var t = TypeOf(items, scope);
                if (t is not null && t != PortTypes.Json && PortTypes.ElementOf(t) is null)
                    Fail(items.Path, $"forEach items must be a list, {items} is {t}");
            }
            if (n.Body.Count == 0 && n.Path.Length > 0) Fail($"{n.Path}.body", $"the {n.Type} body is empty");
            CheckScope(body);
            foreach (var value in n.Outputs.Values) TypeOf(value, body);
        }

        /// <summary>A parameter feeding a bounded input must not allow (or default to) a value outside the bounds.</summary>
        private void CheckParameterRange(InputValue value, PortDescriptor port, string type)
        {
            var (head, rest) = ReferenceRules.Split(value.Name ?? "");
            if (rest is not null || !def.Parameters.TryGetValue(head, out var p)) return;
            if (p.HasDefault && Number(p.Default) is { } d && port.OutOfRange(d) is { } e)
                Fail(value.Path, $"{type}.{e} (the default of parameter '{head}')");
            else if (port.Min is { } min && p.Min is { } pmin && pmin < min || port.Max is { } max && p.Max is { } pmax && pmax > max)
                Fail(value.Path, $"parameter '{head}' allows [{p.Min}, {p.Max}] but {type}.{port.Name} takes [{port.Min}, {port.Max}]");
        }

        private static double? Number(System.Text.Json.Nodes.JsonNode? node) =>
            node is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<double>(out var x) ? x : null;

        /// <summary>The type a value has where it is used, or null if unknown; reports unresolvable references.</summary>
        private string? TypeOf(InputValue v, Scope scope)
        {
            switch (v.Kind)
            {
                case InputKind.Literal:
                    return PortTypes.Of(v.Literal);
                case InputKind.Param:
                {
                    var (head, rest) = ReferenceRules.Split(v.Name ?? "");
                    if (!def.Parameters.TryGetValue(head, out var p))
                    {
                        Fail(v.Path, $"no parameter '{head}'; parameters: {(def.Parameters.Count == 0 ? "none" : string.Join(", ", def.Parameters.Keys))}");
                        return null;
                    }
                    return rest is null ? p.Type : p.HasDefault ? PathType(p.Default, rest) : null;
                }
                case InputKind.Var:
                    return VarType(v, scope);
                case InputKind.From:
                    return FromType(v, scope);
                case InputKind.FromPrevious:
                    return PreviousType(v, scope);
                default:
                    return null;
            }
        }

        private string? VarType(InputValue v, Scope scope)
        {
            var (head, rest) = ReferenceRules.Split(v.Name ?? "");
            for (var s = scope; s is not null; s = s.Parent)
            {
                if (s.Container is not { } container || !ReferenceRules.Binds(container, head)) continue;
                if (ReferenceRules.IsCounter(head)) return rest is null ? PortTypes.Int : Bad();
                var items = container.Items;
                if (items is null) return null;
                if (items.Kind == InputKind.Literal && items.Literal is System.Text.Json.Nodes.JsonArray arr && arr.Count > 0)
                    return rest is null ? PortTypes.Of(arr[0]) : PathType(arr[0], rest);
                var lt = TypeOf(items, s.Parent!);
                return rest is null && lt is not null ? PortTypes.ElementOf(lt) : null;
            }
            Fail(v.Path, head switch
            {
                ReferenceRules.Round => "{\"var\":\"round\"} is only available inside a repeat body",
                ReferenceRules.Item or ReferenceRules.Index => $"{{\"var\":\"{head}\"}} is only available inside a forEach body",
                _ => $"unknown variable '{head}'; variables: round (in repeat), item and index (in forEach)",
            });
            return null;

            string? Bad()
            {
                Fail(v.Path, $"'{head}' is an integer; '{v.Name}' reads a field of it");
                return null;
            }
        }

        private string? FromType(InputValue v, Scope scope)
        {
            if (v.Activity is null || v.Output is null) return null;
            if (!_all.TryGetValue(v.Activity, out var target))
            {
                Fail(v.Path, $"reference to '{v.Activity}.{v.Output}': no activity has id '{v.Activity}'");
                return null;
            }
            // Visible: a node of this scope or of an enclosing one, but not an enclosing container itself.
            var visible = false;
            for (var s = scope; s is not null; s = s.Parent)
            {
                if (ReferenceEquals(s, target.Scope) || SameScope(s, target.Scope)) { visible = true; break; }
                if (s.Container is not null && s.Container.Id == v.Activity)
                {
                    Fail(v.Path, $"'{v.Activity}.{v.Output}' is an output of the enclosing {s.Container.Type} '{v.Activity}', which is not produced until its body finishes (cycle); use fromPrevious for the previous round's value");
                    return null;
                }
            }
            if (!visible)
            {
                var container = target.Scope.Container!;
                Fail(v.Path, $"'{v.Activity}.{v.Output}' is not produced at this point: '{v.Activity}' runs inside {container.Type} '{container.Id}' ({container.Path}); " +
                    $"expose it as an output of '{container.Id}' and reference '{container.Id}.<output>'");
                return null;
            }
            return OutputType(target.Node, target.Scope, v.Output, v.Path);
        }

        private static bool SameScope(Scope a, Scope b) =>
            ReferenceEquals(a.Nodes, b.Nodes);

        private string? PreviousType(InputValue v, Scope scope)
        {
            Scope? repeatBody = null;
            for (var s = scope; s is not null; s = s.Parent)
                if (s.Container is { } c && ReferenceRules.KeepsPreviousRound(c)) { repeatBody = s; break; }
            var initialType = v.Initial is null ? null : TypeOf(v.Initial, scope);
            if (repeatBody is null)
            {
                Fail(v.Path, "fromPrevious is only meaningful inside a repeat body");
                return null;
            }
            if (v.Activity is null || v.Output is null) return null;
            var node = repeatBody.Nodes.FirstOrDefault(n => n.Id == v.Activity);
            if (node is null)
            {
                Fail(v.Path, $"fromPrevious '{v.Activity}.{v.Output}': '{v.Activity}' must be an activity at the top of the body of repeat '{repeatBody.Container!.Id}'");
                return null;
            }
            var t = OutputType(node, repeatBody, v.Output, v.Path);
            if (t is not null && initialType is not null && !PortTypes.IsAssignable(initialType, t) && !PortTypes.IsAssignable(t, initialType))
                Fail(v.Initial!.Path, $"initial value is {initialType} but '{v.Activity}.{v.Output}' is {t}");
            return t ?? initialType;
        }

        private string? OutputType(ActivityNode node, Scope scope, string output, string path)
        {
            if (node.IsContainer)
            {
                // Built in: a repeat's number of rounds, a forEach's number of items.
                var builtin = ReferenceRules.BuiltinOutput(node)!;
                if (output == builtin && !node.Outputs.ContainsKey(output)) return PortTypes.Int;
                if (!node.Outputs.TryGetValue(output, out var expr))
                {
                    Fail(path, $"{node.Type} '{node.Id}' has no output '{output}'; outputs: {string.Join(", ", node.Outputs.Keys.Append(builtin))}");
                    return null;
                }
                if (!_typing.Add(node.Id + "." + output)) return null;
                try
                {
                    // Errors inside the expression are reported where it is declared; count them once.
                    var t = TypeOfQuiet(expr, new Scope(node.Body, scope, node));
                    return t is null ? null : node.IsForEach ? PortTypes.ListOf(t) : t;
                }
                finally { _typing.Remove(node.Id + "." + output); }
            }
            if (!registry.TryGet(node.Type, out var desc)) return null; // unknown type is reported at the node
            var port = desc.Output(output);
            if (port is null)
            {
                Fail(path, $"{node.Type} '{node.Id}' has no output '{output}'; outputs: {string.Join(", ", desc.Outputs.Select(o => o.Name))}");
                return null;
            }
            return port.Type;
        }

        private string? TypeOfQuiet(InputValue v, Scope scope)
        {
            var quiet = new ValidationContext<WorkflowDefinition>(def);
            return new GraphCheck(def, registry, quiet) { }.WithIndex(_all, _typing).TypeOf(v, scope);
        }

        private GraphCheck WithIndex(Dictionary<string, (ActivityNode, Scope)> all, HashSet<string> typing)
        {
            foreach (var kv in all) _all[kv.Key] = kv.Value;
            foreach (var t in typing) _typing.Add(t);
            return this;
        }

        private void CheckCycles(Scope scope)
        {
            var ids = scope.Nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
            var deps = scope.Nodes.GroupBy(n => n.Id).ToDictionary(g => g.Key, g => ReferenceRules.DependenciesIn(g.First(), ids, def.Connections));
            var state = new Dictionary<string, int>(); // 1 = on stack, 2 = done
            var stack = new List<string>();
            foreach (var n in scope.Nodes) Visit(n.Id);

            void Visit(string id)
            {
                if (state.TryGetValue(id, out var s))
                {
                    if (s == 1)
                    {
                        var cycle = stack.Skip(stack.IndexOf(id)).Append(id).ToList();
                        var node = scope.Nodes.First(x => x.Id == id);
                        Fail(node.Path, $"cycle: {string.Join(" -> ", cycle)} (each waits for the next's output; a loop must be a repeat container)");
                    }
                    return;
                }
                state[id] = 1;
                stack.Add(id);
                foreach (var d in deps.GetValueOrDefault(id) ?? []) Visit(d);
                stack.RemoveAt(stack.Count - 1);
                state[id] = 2;
            }
        }

        private void CheckConnection(ConnectionDefinition c)
        {
            foreach (var (end, id) in new[] { ("from", c.From), ("to", c.To) })
                if (id.Length > 0 && !_all.ContainsKey(id)) Fail($"{c.Path}.{end}", $"no activity has id '{id}'");
            if (_all.TryGetValue(c.From, out var a) && _all.TryGetValue(c.To, out var b))
            {
                if (c.From == c.To) Fail(c.Path, $"'{c.From}' cannot wait for itself");
                else if (!SameScope(a.Scope, b.Scope)) Fail(c.Path, $"'{c.From}' and '{c.To}' are in different scopes; a connection joins activities of one body");
            }
        }

        private static string? PathType(System.Text.Json.Nodes.JsonNode? node, string path)
        {
            foreach (var part in path.Split('.'))
                node = node is System.Text.Json.Nodes.JsonObject o ? o[part] : null;
            return node is null ? null : PortTypes.Of(node);
        }
    }
}
