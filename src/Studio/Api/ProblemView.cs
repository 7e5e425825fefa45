using PostTrain.Engine.Definitions;

namespace PostTrain.Studio.Api;

/// <summary>One problem in a definition: its JSON path (line and position for malformed JSON) and the reason.</summary>
public sealed record ProblemView(string Path, string Message, int? Line = null, int? Position = null)
{
    public static ProblemView From(WorkflowProblem p) => new(p.Path, p.Message, p.Line, p.Position);
}
