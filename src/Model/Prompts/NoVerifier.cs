namespace PostTrain.Model.Prompts;

/// <summary><c>none</c>: no answers to check; the reward model alone ranks responses and evaluation reports its win rate.</summary>
public sealed class NoVerifier : IVerifier
{
    public string Name => Verifiers.None;

    public bool? Verify(VerifiableTask task, string response) => null;

    public string? ReferenceProblem(string answer) => null;
}
