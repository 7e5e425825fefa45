using System.Reflection;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;

namespace PostTrain.Studio;

/// <summary>How <c>posttrain studio</c> runs: where it listens, which home and workflow directory it serves.</summary>
public sealed record StudioOptions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string TokenEnvironmentVariable = "POSTTRAIN_STUDIO_TOKEN";

    /// <summary>Semicolon-separated listen URLs (default http://127.0.0.1:5080). A non-loopback address requires an access token.</summary>
    public string Urls { get; init; } = DefaultUrl;
    /// <summary>The PostTrain home (LiteDB, artifacts); the studio owns it like <c>posttrain host</c> does.</summary>
    public required string Home { get; init; }
    /// <summary>The directory of workflow definitions the designer lists, opens and saves (default ./workflows).</summary>
    public required string WorkflowsDirectory { get; init; }
    /// <summary>Access token; null = generated when one is needed (non-loopback), or <see cref="TokenEnvironmentVariable"/>.</summary>
    public string? AccessToken { get; init; }
    /// <summary>Require the token even on loopback (default false: loopback is trusted).</summary>
    public bool RequireToken { get; init; }
    /// <summary>Largest request body accepted (default 1 MiB; workflow files are a few KiB).</summary>
    public long MaxRequestBodyBytes { get; init; } = 1024 * 1024;
    public BusSettings Bus { get; init; } = BusSettings.InMemory;
    /// <summary>Run workers in this process (default true; false = remote workers over RabbitMQ only).</summary>
    public WorkerOptions? Worker { get; init; } = new();
    public EngineOptions EngineOptions { get; init; } = new();
    /// <summary>Assemblies with extra activities (tests register cheap ones).</summary>
    public IReadOnlyList<Assembly> ActivityAssemblies { get; init; } = [];
}
