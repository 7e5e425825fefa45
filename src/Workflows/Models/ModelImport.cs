using PostTrain.Model.Checkpoints;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Models;

/// <summary>A checkpoint stored by <see cref="ModelCatalog.Import"/>: its reference, the name it was given, what was checked.</summary>
public sealed record ModelImport(ArtifactRef Artifact, string? Name, CheckpointSummary Summary);
