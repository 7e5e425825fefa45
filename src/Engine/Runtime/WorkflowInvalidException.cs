namespace PostTrain.Engine.Runtime;

/// <summary>A workflow cannot run: each problem names the file and the field or parameter, and the reason.</summary>
public sealed class WorkflowInvalidException(string source, IReadOnlyList<string> problems)
    : Exception($"{source}: {problems.Count} problem(s):\n  " + string.Join("\n  ", problems))
{
    public string WorkflowSource { get; } = source;
    public IReadOnlyList<string> Problems { get; } = problems;
}
