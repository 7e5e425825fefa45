namespace PostTrain.Engine.Activities;

/// <summary>
/// Marks an input that is an option of a library's options record (TRL's config dataclasses play this role): its
/// description and bounds come from that record's property (its XML doc and <c>[Range]</c>), and its default must be the
/// record's default, so the activity declares no literal of its own. Write the initial value as the record's, e.g.
/// <c>= Defaults.LearningRate</c> with <c>static readonly RewardModelOptions Defaults = new();</c>;
/// <see cref="ActivityDescriptorFactory"/> refuses an activity whose initial value differs.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(Type options, string? property = null) : Attribute
{
    /// <summary>The options record, with a public parameterless constructor whose instance holds the defaults.</summary>
    public Type Options { get; } = options;
    /// <summary>The record's property; null = the input's own name.</summary>
    public string? Property { get; } = property;
}
