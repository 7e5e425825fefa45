using System.Text.Json.Nodes;

namespace PostTrain.Studio.Api;

/// <summary>
/// A stored artifact (a checkpoint directory, a report, a dataset): where it is on disk, its files, a checkpoint's
/// <c>config.json</c> and <c>metadata.json</c>, its lineage records, and the command that exports it.
/// </summary>
public sealed record ArtifactView(
    string Artifact, string Path, bool IsDirectory, IReadOnlyList<ArtifactFileView> Files, JsonNode? Config, JsonNode? Metadata,
    IReadOnlyList<CheckpointView> Lineage, string ExportCommand);
