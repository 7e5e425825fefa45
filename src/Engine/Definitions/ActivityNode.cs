namespace PostTrain.Engine.Definitions;

/// <summary>
/// One entry of <c>activities</c> or of a container's <c>body</c>: an activity, a <c>repeat</c> (body run
/// <see cref="Count"/> times in sequence) or a <c>forEach</c> (body run once per element of <see cref="Items"/>, in parallel).
/// </summary>
public sealed record ActivityNode
{
    public const string RepeatType = "repeat";
    public const string ForEachType = "forEach";

    public required string Id { get; init; }
    public required string Type { get; init; }
    /// <summary>Worker pool (cpu, gpu); null = the activity's default.</summary>
    public string? Pool { get; init; }
    public IReadOnlyDictionary<string, InputValue> Inputs { get; init; } = new Dictionary<string, InputValue>();
    public RetryPolicy? Retry { get; init; }
    /// <summary>repeat: how many rounds.</summary>
    public InputValue? Count { get; init; }
    /// <summary>forEach: the list to fan out over.</summary>
    public InputValue? Items { get; init; }
    public IReadOnlyList<ActivityNode> Body { get; init; } = [];
    /// <summary>Container outputs, evaluated in the body's scope: last round for repeat, a list over items for forEach.</summary>
    public IReadOnlyDictionary<string, InputValue> Outputs { get; init; } = new Dictionary<string, InputValue>();
    public string Path { get; init; } = "$";

    public bool IsRepeat => Type == RepeatType;
    public bool IsForEach => Type == ForEachType;
    public bool IsContainer => IsRepeat || IsForEach;
}
