namespace PostTrain.Engine.Activities;

/// <summary>What an activity is and takes, generated from its class by <see cref="ActivityDescriptorFactory"/>.</summary>
public sealed record ActivityDescriptor
{
    public required string Type { get; init; }
    public string Category { get; init; } = "General";
    public string Description { get; init; } = "";
    public string Pool { get; init; } = "cpu";
    public IReadOnlyList<PortDescriptor> Inputs { get; init; } = [];
    public IReadOnlyList<PortDescriptor> Outputs { get; init; } = [];
    [System.Text.Json.Serialization.JsonIgnore]
    public Type ClrType { get; init; } = typeof(object);

    public PortDescriptor? Input(string name) => Inputs.FirstOrDefault(i => i.Name == name);
    public PortDescriptor? Output(string name) => Outputs.FirstOrDefault(o => o.Name == name);
}
