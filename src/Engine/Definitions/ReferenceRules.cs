namespace PostTrain.Engine.Definitions;

/// <summary>
/// The one statement of what an input may refer to, read by the validator (types and messages), the planner
/// (values at run time) and, through <see cref="For"/>, any editor that offers references:
/// <list type="bullet">
/// <item><c>{"from":"id.output"}</c> reads an activity of the node's own scope or of an enclosing one, never the node
/// itself or a container around it (its outputs exist only once its body is done).</item>
/// <item><c>{"fromPrevious":"id.output"}</c> reads an activity at the top of the body of the nearest enclosing
/// <c>repeat</c>, one round back; <c>initial</c> stands in for round 0.</item>
/// <item><c>{"var":…}</c>: <c>round</c> inside a repeat; <c>item</c> (and <c>item.field</c>) and <c>index</c> inside a
/// forEach; the innermost container that binds the name wins.</item>
/// <item>Built-in container outputs: <c>repeat.rounds</c>, <c>forEach.count</c>.</item>
/// </list>
/// </summary>
public static class ReferenceRules
{
    public const string Round = "round";
    public const string Item = "item";
    public const string Index = "index";

    /// <summary>The loop variables <paramref name="container"/> binds for its body.</summary>
    public static IReadOnlyList<string> VariablesOf(ActivityNode container) =>
        container.IsRepeat ? [Round] : container.IsForEach ? [Item, Index] : [];

    /// <summary>Whether <paramref name="container"/> binds the variable whose name starts with <paramref name="head"/>.</summary>
    public static bool Binds(ActivityNode container, string head) => VariablesOf(container).Contains(head);

    /// <summary>Whether a variable is an integer (round, index) rather than a value with fields (item).</summary>
    public static bool IsCounter(string head) => head is Round or Index;

    /// <summary>Whether <c>fromPrevious</c> inside <paramref name="container"/>'s body reads the previous round of it.</summary>
    public static bool KeepsPreviousRound(ActivityNode container) => container.IsRepeat;

    /// <summary>The output every container has without declaring it: a repeat's rounds, a forEach's count.</summary>
    public static string? BuiltinOutput(ActivityNode container) =>
        container.IsRepeat ? "rounds" : container.IsForEach ? "count" : null;

    /// <summary>"item.a.b" → ("item", "a.b"); "round" → ("round", null).</summary>
    public static (string Head, string? Tail) Split(string name)
    {
        var dot = name.IndexOf('.');
        return dot < 0 ? (name, null) : (name[..dot], name[(dot + 1)..]);
    }

    /// <summary>
    /// Ids of the nodes of one scope that <paramref name="node"/> waits for: what it (or anything in its body) reads
    /// with <c>from</c>, plus the <paramref name="connections"/> that end at it.
    /// </summary>
    public static HashSet<string> DependenciesIn(ActivityNode node, IReadOnlySet<string> scopeIds, IEnumerable<ConnectionDefinition> connections)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        void Add(InputValue? v)
        {
            if (v is null) return;
            if (v.Kind == InputKind.From && v.Activity is not null && scopeIds.Contains(v.Activity) && v.Activity != node.Id) result.Add(v.Activity);
            if (v.Kind == InputKind.From && v.Activity == node.Id && !node.IsContainer) result.Add(v.Activity);
            Add(v.Initial);
        }
        void Walk(ActivityNode n)
        {
            foreach (var v in n.Inputs.Values) Add(v);
            Add(n.Count);
            Add(n.Items);
            foreach (var v in n.Outputs.Values) Add(v);
            foreach (var b in n.Body) Walk(b);
        }
        Walk(node);
        foreach (var c in connections)
            if (c.To == node.Id && scopeIds.Contains(c.From)) result.Add(c.From);
        return result;
    }

    /// <summary>
    /// What the node with id <paramref name="nodeId"/> may refer to, by the rules above; null if no node has that id.
    /// </summary>
    public static NodeReferences? For(WorkflowDefinition definition, string nodeId)
    {
        var chain = new List<(IReadOnlyList<ActivityNode> Scope, ActivityNode? Container)>();
        return Find(definition.Activities, null) ? Build() : null;

        bool Find(IReadOnlyList<ActivityNode> scope, ActivityNode? container)
        {
            chain.Add((scope, container));
            foreach (var n in scope)
                if (n.Id == nodeId || (n.IsContainer && Find(n.Body, n))) return true;
            chain.RemoveAt(chain.Count - 1);
            return false;
        }

        NodeReferences Build()
        {
            var containers = chain.Select(c => c.Container).OfType<ActivityNode>().ToHashSet();
            var visible = Enumerable.Reverse(chain).SelectMany(c => c.Scope).Where(n => n.Id != nodeId && !containers.Contains(n)).Select(n => n.Id).ToList();
            var repeat = chain.LastOrDefault(c => c.Container is { } k && KeepsPreviousRound(k));
            var previous = repeat.Container is null ? [] : repeat.Scope.Select(n => n.Id).ToList();
            var variables = new List<string>();
            for (var i = chain.Count - 1; i >= 0; i--)
                if (chain[i].Container is { } k)
                    foreach (var v in VariablesOf(k))
                        if (!variables.Contains(v)) variables.Add(v);
            return new NodeReferences(visible, previous, variables);
        }
    }
}
