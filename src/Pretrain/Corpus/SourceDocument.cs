namespace PostTrain.Pretrain.Corpus;

/// <summary>A document as read from an input file.</summary>
/// <param name="Id">The JSONL line's "id", else FILE:LINE of its first line.</param>
/// <param name="Text">The text as read (before normalisation).</param>
/// <param name="Location">FILE:LINE where it starts, for messages and the report.</param>
/// <param name="Bytes">Bytes of input it took (for the rate).</param>
public sealed record SourceDocument(string Id, string Text, string Location, long Bytes);
