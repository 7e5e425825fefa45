using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PostTrain.Core.Progress;
using PostTrain.Engine.Contracts;
using PostTrain.Engine.Store;

namespace PostTrain.Engine.Activities;

/// <summary>
/// What an activity gets besides its inputs: the PostTrain home, the artifact store, a logger, a progress reporter
/// (forwarded as heartbeats), cancellation, the device and a seed derived from the run's seed and the step path.
/// Metrics and checkpoints recorded here are persisted by the engine when the step completes, never before.
/// </summary>
public sealed class ActivityContext
{
    private readonly List<MetricValue> _metrics = [];
    private readonly List<CheckpointRegistration> _checkpoints = [];

    public required string Home { get; init; }
    public required ArtifactStore Artifacts { get; init; }
    public ILogger Logger { get; init; } = NullLogger.Instance;
    public IProgress<StageProgress> Progress { get; init; } = new Progress<StageProgress>();
    public CancellationToken CancellationToken { get; init; }
    /// <summary>cpu or cuda (or cuda:N).</summary>
    public string Device { get; init; } = "cpu";
    public long Seed { get; init; }
    /// <summary>The run's seed (<see cref="Seed"/> is the step's: a hash of it and the step path).</summary>
    public long RunSeed { get; init; }
    public Guid RunId { get; init; }
    public string StepPath { get; init; } = "";
    public int Attempt { get; init; } = 1;
    /// <summary>Index of the innermost enclosing repeat round (0-based), null outside a repeat.</summary>
    public int? Round { get; init; }

    public IReadOnlyList<MetricValue> Metrics => _metrics;
    public IReadOnlyList<CheckpointRegistration> Checkpoints => _checkpoints;

    /// <summary>A scratch directory for this attempt under HOME/work; put results into <see cref="Artifacts"/>.</summary>
    public string WorkDirectory
    {
        get
        {
            var dir = Path.Combine(Home, "work", RunId.ToString("N"), StepPath.Replace('/', '_').Replace('[', '_').Replace(']', '_') + $"_a{Attempt}");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public void RecordMetric(string name, double value, long? step = null) =>
        _metrics.Add(new MetricValue { Name = name, Value = value, Step = step });

    /// <summary>Registers a checkpoint directory already stored in <see cref="Artifacts"/>, with its lineage.</summary>
    public void RegisterCheckpoint(ArtifactRef checkpoint, string kind, ArtifactRef? parent = null, ArtifactRef? sampler = null, ArtifactRef? rewardModel = null, string? name = null)
    {
        if (!Artifacts.Exists(checkpoint)) throw new InvalidOperationException($"checkpoint {checkpoint} is not in the artifact store; store it before registering it");
        _checkpoints.Add(new CheckpointRegistration
        {
            Artifact = checkpoint.ToString(),
            Kind = kind,
            Round = Round,
            Parent = parent?.ToString(),
            Sampler = sampler?.ToString(),
            RewardModel = rewardModel?.ToString(),
            Name = name,
        });
    }

    /// <summary>A context for calling an activity directly from a test, with no bus or store.</summary>
    public static ActivityContext ForTest(string home, long seed = 0, CancellationToken cancellationToken = default) => new()
    {
        Home = home,
        Artifacts = new ArtifactStore(home),
        Seed = seed,
        RunSeed = seed,
        CancellationToken = cancellationToken,
        RunId = Guid.Empty,
        StepPath = "test",
    };
}
