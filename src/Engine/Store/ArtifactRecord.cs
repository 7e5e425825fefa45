namespace PostTrain.Engine.Store;

/// <summary>An artifact some completed step produced (registered only after the step completed).</summary>
public sealed class ArtifactRecord
{
    public string Id { get; set; } = "";
    public Guid RunId { get; set; }
    public string StepPath { get; set; } = "";
    public DateTime At { get; set; }
}
