namespace PostTrain.Model.Prompts;

/// <summary>Families of tasks whose answers a program can check, standing in for human preference labels.</summary>
public enum TaskKind
{
    Addition,
    Subtraction,
    Multiplication,
    Sorting,
    WordProblem,
}
