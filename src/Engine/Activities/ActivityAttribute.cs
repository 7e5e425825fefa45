namespace PostTrain.Engine.Activities;

/// <summary>Marks an activity class: its type name in definitions, and the metadata the designer and <c>posttrain activities</c> show.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ActivityAttribute(string type) : Attribute
{
    public string Type { get; } = type;
    public string Category { get; init; } = "General";
    public string Description { get; init; } = "";
    /// <summary>Default worker pool (cpu or gpu); a definition may override it per activity.</summary>
    public string Pool { get; init; } = "cpu";
}
