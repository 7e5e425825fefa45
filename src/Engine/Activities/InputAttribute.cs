namespace PostTrain.Engine.Activities;

/// <summary>Documents an input property. The default is the property's initial value on a new input object.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class InputAttribute(string description = "") : Attribute
{
    public string Description { get; } = description;
    /// <summary>A definition must give this input.</summary>
    public bool Required { get; init; }
    /// <summary>Smallest value a numeric input takes (NaN = no bound); <c>validate</c> and the worker refuse less.</summary>
    public double Min { get; init; } = double.NaN;
    /// <summary>Largest value a numeric input takes (NaN = no bound); <c>validate</c> and the worker refuse more.</summary>
    public double Max { get; init; } = double.NaN;
}
