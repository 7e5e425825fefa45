namespace PostTrain.Engine.Definitions;

/// <summary>The definition (null when the JSON could not be read at all) and the structural problems found while reading it.</summary>
public sealed record WorkflowLoadResult(WorkflowDefinition? Definition, IReadOnlyList<WorkflowProblem> Problems, string Source);
