namespace PostTrain.Model.Prompts;

/// <summary>
/// Where a run's prompts come from: the built-in verifiable-task generator (<see cref="BuiltInPromptSource"/>) or the
/// user's imported prompt file (<see cref="PromptFileSource"/>). Either gives one <see cref="TaskSet"/> that every later
/// stage reads, with the verifier its answers are checked by.
/// </summary>
public interface IPromptSource
{
    /// <exception cref="InvalidOperationException">The source cannot fill the request (too few distinct prompts, none held out); the message says which.</exception>
    TaskSet CreateTaskSet(TaskSetOptions options);
}
