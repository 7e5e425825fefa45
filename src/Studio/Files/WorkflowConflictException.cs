namespace PostTrain.Studio.Files;

/// <summary>A save or rename whose If-Match no longer names the file on disk (someone else saved it meanwhile).</summary>
public sealed class WorkflowConflictException(string message) : Exception(message);
