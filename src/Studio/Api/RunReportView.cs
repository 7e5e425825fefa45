namespace PostTrain.Studio.Api;

/// <summary>A run's quality report as <c>posttrain report</c> wrote it: the Markdown, where it is, and the files beside it (charts).</summary>
public sealed record RunReportView(Guid RunId, string Path, string Markdown, IReadOnlyList<string> Files);
