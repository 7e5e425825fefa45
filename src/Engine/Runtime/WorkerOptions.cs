namespace PostTrain.Engine.Runtime;

/// <summary>What a worker process serves.</summary>
public sealed record WorkerOptions
{
    /// <summary>Pools whose queues this worker consumes (cpu, gpu).</summary>
    public IReadOnlyList<string> Pools { get; init; } = ["cpu", "gpu"];
    /// <summary>Activities run at once per pool (default: cpu = processor count, gpu = 1).</summary>
    public IReadOnlyDictionary<string, int> Concurrency { get; init; } = new Dictionary<string, int> { ["cpu"] = Math.Max(2, Environment.ProcessorCount), ["gpu"] = 1 };
    /// <summary>Device given to activities: cpu, cuda, cuda:1.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>How long a delivered command may wait for a free slot before it is put back on its queue (default 20 s).</summary>
    public TimeSpan SlotWait { get; init; } = TimeSpan.FromSeconds(20);
    public string Name { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    public int ConcurrencyOf(string pool) => Concurrency.TryGetValue(pool, out var c) ? Math.Max(1, c) : 1;
}
