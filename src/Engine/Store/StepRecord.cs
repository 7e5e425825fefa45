namespace PostTrain.Engine.Store;

/// <summary>One step of a run: an activity at a path (<c>rounds[1]/dpo[0]/train</c>), with its latest attempt.</summary>
public sealed class StepRecord
{
    /// <summary><c>{runId:N}:{path}</c>.</summary>
    public string Id { get; set; } = "";
    public Guid RunId { get; set; }
    public string Path { get; set; } = "";
    public string NodeId { get; set; } = "";
    public string ActivityType { get; set; } = "";
    public string Pool { get; set; } = "cpu";
    public int? Round { get; set; }
    public StepState State { get; set; }
    /// <summary>Dispatches so far; messages about an older attempt are ignored.</summary>
    public int Attempt { get; set; }
    /// <summary>Failed attempts so far (lost heartbeats count), against the retry limit.</summary>
    public int Failures { get; set; }
    public int MaxAttempts { get; set; } = 3;
    public double BackoffSeconds { get; set; } = 5;
    public string InputsJson { get; set; } = "{}";
    public string CacheKey { get; set; } = "";
    public long Seed { get; set; }
    public string? OutputsJson { get; set; }
    public bool FromCache { get; set; }
    public string? Error { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? DispatchedAt { get; set; }
    public DateTime? StartedAt { get; set; }

    /// <summary>The worker that started the current attempt (its WorkerOptions.Name); null until one has.</summary>
    public string? Worker { get; set; }
    public DateTime? FinishedAt { get; set; }
    public DateTime? NextAttemptAt { get; set; }

    public static string MakeId(Guid runId, string path) => $"{runId:N}:{path}";

    public bool IsInFlight => State is StepState.Pending or StepState.Dispatched or StepState.Running or StepState.Retrying;
}
