namespace PostTrain.Engine.Bus;

/// <summary>Queue names, shared by every process on the bus.</summary>
public static class BusTopology
{
    /// <summary>The engine's queue: worker events, run requests, cancels.</summary>
    public const string EngineQueue = "posttrain-engine";
    /// <summary>Trigger events: the consumers of the application's <c>TriggerRegistration</c>s.</summary>
    public const string TriggerQueue = "posttrain-triggers";

    /// <summary>One queue per worker pool: posttrain-pool-cpu, posttrain-pool-gpu.</summary>
    public static string PoolQueue(string pool) => $"posttrain-pool-{pool}";
}
