namespace PostTrain.Engine.Definitions;

/// <summary>
/// Starts the workflow when <see cref="Event"/> arrives. <see cref="Parameters"/> maps a workflow parameter to a
/// field of the event's payload, e.g. <c>{"event":"PreferenceDataArrived","parameters":{"preferences":"dataset"}}</c>.
/// The plain string form <c>"PreferenceDataArrived"</c> binds no parameter.
/// </summary>
public sealed record TriggerBinding
{
    public required string Event { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public string Path { get; init; } = "$";
}
