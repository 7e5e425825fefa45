namespace PostTrain.Pretrain.Corpus;

/// <summary>What <see cref="CorpusPreparer"/> did, written as <c>DIR/report.json</c>.</summary>
public sealed record CorpusReport
{
    public required IReadOnlyList<string> Files { get; init; }
    /// <summary>File name of the kept documents (JSONL with "id" and "text") beside the report.</summary>
    public required string Output { get; init; }
    public required long Documents { get; init; }
    public required long Kept { get; init; }
    public long Removed => Documents - Kept;
    public required long InputBytes { get; init; }
    /// <summary>UTF-8 bytes of the kept texts.</summary>
    public required long KeptTextBytes { get; init; }
    public required double Seconds { get; init; }
    public double MegabytesPerSecond => Seconds > 0 ? InputBytes / 1e6 / Seconds : 0;
    /// <summary>Every filter in the order documents meet them, including those that removed nothing.</summary>
    public required IReadOnlyList<FilterReport> Filters { get; init; }
    public required CorpusOptions Options { get; init; }
}
