namespace PostTrain.Engine.Definitions;

/// <summary>What one node may refer to (see <see cref="ReferenceRules"/>).</summary>
/// <param name="Visible">Activity ids whose outputs it may read with <c>from</c>, innermost scope first.</param>
/// <param name="Previous">Activity ids it may read with <c>fromPrevious</c> (the top of the nearest repeat's body); empty outside a repeat.</param>
/// <param name="Variables">The loop variables bound around it, innermost first.</param>
public sealed record NodeReferences(IReadOnlyList<string> Visible, IReadOnlyList<string> Previous, IReadOnlyList<string> Variables);
