namespace PostTrain.Engine.Activities;

/// <summary>Documents an output property.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OutputAttribute(string description = "") : Attribute
{
    public string Description { get; } = description;
}
