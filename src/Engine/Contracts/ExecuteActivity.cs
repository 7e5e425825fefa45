namespace PostTrain.Engine.Contracts;

/// <summary>Command to a worker pool's queue: run one attempt of one step. Inputs are JSON; artifacts travel as hashes.</summary>
public sealed record ExecuteActivity
{
    public Guid RunId { get; init; }
    /// <summary>Step path inside the run, e.g. <c>rounds[2]/dpo[1]/train</c>.</summary>
    public string StepPath { get; init; } = "";
    public int Attempt { get; init; }
    public string ActivityType { get; init; } = "";
    public string Pool { get; init; } = "cpu";
    public string InputsJson { get; init; } = "{}";
    /// <summary>Hash of (activity type, resolved inputs, seed): the key a re-run uses to find finished work.</summary>
    public string CacheKey { get; init; } = "";
    public long Seed { get; init; }
    /// <summary>The run's seed, for work that must not depend on the step's path (a sampling shard's random streams).</summary>
    public long RunSeed { get; init; }
    public int? Round { get; init; }
    /// <summary>
    /// Where the owner of the home serves its artifacts (<c>http://host:port/</c>), null when the worker shares the
    /// owner's store (in-memory bus): the worker fetches the step's <c>sha256:</c> inputs from there and pushes its
    /// outputs back before it reports the step done.
    /// </summary>
    public string? ArtifactUrl { get; init; }
    /// <summary>The bearer token of <see cref="ArtifactUrl"/>.</summary>
    public string? ArtifactToken { get; init; }
}
