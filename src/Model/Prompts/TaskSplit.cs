namespace PostTrain.Model.Prompts;

/// <summary>Which side of the fixed train / held-out partition a task's prompt hashes to.</summary>
public enum TaskSplit
{
    Train,
    HeldOut,
}
