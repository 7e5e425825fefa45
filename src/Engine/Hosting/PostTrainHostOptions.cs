using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PostTrain.Engine.Artifacts;
using PostTrain.Engine.Bus;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Triggers;

namespace PostTrain.Engine.Hosting;

/// <summary>What a PostTrain process runs: the engine (owns the home's database), workers, or both.</summary>
public sealed record PostTrainHostOptions
{
    public required string Home { get; init; }
    public BusSettings Bus { get; init; } = BusSettings.InMemory;
    /// <summary>Run the engine: takes the home's single-writer lock.</summary>
    public bool Engine { get; init; } = true;
    /// <summary>Null = no worker in this process.</summary>
    public WorkerOptions? Worker { get; init; } = new();
    public EngineOptions EngineOptions { get; init; } = new();
    /// <summary>With the engine: serve the home's artifacts to workers on other machines (null = workers share this store).</summary>
    public ArtifactServerOptions? ArtifactServer { get; init; }
    /// <summary>Resume running runs and start queued ones when the engine starts.</summary>
    public bool ResumeOnStart { get; init; } = true;
    /// <summary>Assemblies scanned for activities besides the engine's built-ins.</summary>
    public IReadOnlyList<Assembly> ActivityAssemblies { get; init; } = [];
    /// <summary>Messages that start workflows: their events (for validation) and consumers (on the trigger queue).</summary>
    public IReadOnlyList<TriggerRegistration> Triggers { get; init; } = [];
    /// <summary>Directories of workflow files (for names, RunRequested and triggers).</summary>
    public IReadOnlyList<string> WorkflowDirectories { get; init; } = [];
    /// <summary>Shown to a second process that finds the home locked: host, run, resume...</summary>
    public string Purpose { get; init; } = "posttrain";
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;
    /// <summary>Extra registrations, e.g. an <c>IPreferenceDataValidator</c>.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}
