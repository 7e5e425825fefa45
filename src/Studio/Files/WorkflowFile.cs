namespace PostTrain.Studio.Files;

/// <summary>A workflow file as read from disk: its text and the ETag (hash of the bytes) a save must match.</summary>
public sealed record WorkflowFile(string Name, string Path, string Text, string ETag, DateTime Modified);
