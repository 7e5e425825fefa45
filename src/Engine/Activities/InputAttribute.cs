namespace PostTrain.Engine.Activities;

/// <summary>Documents an input property. The default is the property's initial value on a new input object.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class InputAttribute(string description = "") : Attribute
{
    public string Description { get; } = description;
    /// <summary>A definition must give this input.</summary>
    public bool Required { get; init; }
}
