namespace PostTrain.Engine.Store;

/// <summary>Metadata of a stored dataset (e.g. an imported preference batch); the bytes are an artifact.</summary>
public sealed class DatasetRecord
{
    public Guid Id { get; set; }
    public string Kind { get; set; } = "";
    /// <summary>The name given at import (<c>--name</c>), by which a command can refer to it; empty = none.</summary>
    public string Name { get; set; } = "";
    public string Artifact { get; set; } = "";
    public int Records { get; set; }
    public string Source { get; set; } = "";
    public DateTime At { get; set; }
}
