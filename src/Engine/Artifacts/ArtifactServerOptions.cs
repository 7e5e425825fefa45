namespace PostTrain.Engine.Artifacts;

/// <summary>Where the owner of a home serves its artifacts to workers on other machines.</summary>
public sealed record ArtifactServerOptions
{
    /// <summary>TCP port on every interface; 0 = any free port (workers learn the address from each command).</summary>
    public int Port { get; init; }
    /// <summary>The host name workers reach this machine by (default: this machine's name).</summary>
    public string? AdvertisedHost { get; init; }
}
