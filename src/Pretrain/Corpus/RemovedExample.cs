namespace PostTrain.Pretrain.Corpus;

/// <summary>One removed document quoted in report.json.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Location">FILE:LINE where it starts.</param>
/// <param name="Reason">The measured value against the limit, or which kept document it duplicates.</param>
/// <param name="Text">The start of its normalised text.</param>
public sealed record RemovedExample(string Id, string Location, string Reason, string Text);
