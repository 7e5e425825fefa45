using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace PostTrain.Engine.Runtime;

/// <summary>Deterministic seeds and cache keys of steps.</summary>
public static class StepIdentity
{
    /// <summary>The step's seed: a hash of the run's seed and the step path, so parallel steps get distinct, reproducible streams.</summary>
    public static long Seed(long runSeed, string path)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{runSeed}\n{path}"));
        return BinaryPrimitives.ReadInt64LittleEndian(bytes) & long.MaxValue;
    }

    /// <summary>Hash of (activity type, canonical resolved inputs, seed): equal keys mean the work is already done.</summary>
    public static string CacheKey(string activityType, JsonObject inputs, long seed) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{activityType}\n{WorkflowPlanner.Canonical(inputs)}\n{seed}")));
}
