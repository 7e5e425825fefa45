namespace PostTrain.Pretrain.Corpus;

/// <summary>How many documents one filter removed (each document is counted by the first filter it fails) and a few of them.</summary>
public sealed record FilterReport(string Name, long Removed, IReadOnlyList<RemovedExample> Examples);
