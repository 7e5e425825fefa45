namespace PostTrain.Engine.Definitions;

/// <summary>One problem in a workflow file: a JSON path (and, for malformed JSON, a line and position) and the reason.</summary>
public sealed record WorkflowProblem(string Path, string Message, int? Line = null, int? Position = null)
{
    public string Format(string source) =>
        Line is { } l ? $"{source}:{l}:{Position}: {Message}" : $"{source}: {Path}: {Message}";

    public override string ToString() => Line is { } l ? $"line {l}, position {Position}: {Message}" : $"{Path}: {Message}";
}
