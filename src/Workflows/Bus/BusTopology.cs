namespace PostTrain.Workflows.Bus;

/// <summary>Queue names, shared by every process on the bus.</summary>
public static class BusTopology
{
    /// <summary>The engine's queue: worker events, run requests, cancels.</summary>
    public const string EngineQueue = "posttrain-engine";
    /// <summary>Trigger events (PreferenceDataArrived).</summary>
    public const string TriggerQueue = "posttrain-triggers";

    /// <summary>One queue per worker pool: posttrain-pool-cpu, posttrain-pool-gpu.</summary>
    public static string PoolQueue(string pool) => $"posttrain-pool-{pool}";
}
