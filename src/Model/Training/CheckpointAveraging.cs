using PostTrain.Model.Checkpoints;
using static TorchSharp.torch;

namespace PostTrain.Model.Training;

/// <summary>
/// Uniform weight averaging of checkpoints of one architecture. Llama 3 averages models from runs with different data or
/// hyper-parameters at each post-training stage (Llama Team 2024, "The Llama 3 Herd of Models" §4.1.5, following
/// model soups, Wortsman et al. 2022).
/// </summary>
public static class CheckpointAveraging
{
    /// <summary>
    /// Writes the element-wise mean of the checkpoints' weights (and of their extra tensors) to <paramref name="outDir"/>,
    /// with the first checkpoint's tokenizer. Checkpoints are loaded one at a time and summed in float64.
    /// Returns the new checkpoint's hash.
    /// </summary>
    /// <exception cref="InvalidDataException">Configs or extra-tensor sets differ; the message names both directories and the field.</exception>
    public static string Average(IReadOnlyList<string> checkpointDirs, string outDir)
    {
        ArgumentNullException.ThrowIfNull(checkpointDirs);
        if (checkpointDirs.Count == 0) throw new ArgumentException("no checkpoints to average, expected at least 1", nameof(checkpointDirs));

        var first = Checkpoint.Load(checkpointDirs[0]);
        var sums = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var hashes = new List<string>();
        try
        {
            var firstJson = first.Config.ToJson();
            for (var i = 0; i < checkpointDirs.Count; i++)
            {
                var ck = i == 0 ? first : Checkpoint.Load(checkpointDirs[i]);
                try
                {
                    if (i > 0)
                    {
                        if (ck.Config.ToJson() != firstJson)
                            throw new InvalidDataException($"{Path.Combine(checkpointDirs[i], Checkpoint.ConfigFile)}: config differs from {Path.Combine(checkpointDirs[0], Checkpoint.ConfigFile)} ({DescribeDifference(first.Config, ck.Config)}); only checkpoints of one architecture can be averaged");
                        var a = string.Join(",", first.Extra.Keys.Order(StringComparer.Ordinal));
                        var b = string.Join(",", ck.Extra.Keys.Order(StringComparer.Ordinal));
                        if (a != b) throw new InvalidDataException($"{checkpointDirs[i]}: extra tensors [{b}], expected [{a}] as in {checkpointDirs[0]}");
                    }
                    hashes.Add(ck.Hash);
                    using var _ = no_grad();
                    foreach (var (name, t) in ck.Model.state_dict().Concat(ck.Extra.Select(kv => KeyValuePair.Create("extra:" + kv.Key, kv.Value))))
                    {
                        if (!sums.TryGetValue(name, out var sum))
                            sums[name] = t.to_type(ScalarType.Float64).DetachFromDisposeScope();
                        else
                        {
                            // Disposed here, not left to the finalizer thread: native memory must not outlive the loop.
                            using var converted = t.to_type(ScalarType.Float64);
                            sum.add_(converted);
                        }
                    }
                }
                finally
                {
                    if (i > 0) Dispose(ck);
                }
            }

            using (no_grad())
            {
                foreach (var (name, t) in first.Model.state_dict())
                {
                    using var mean = sums[name] / checkpointDirs.Count;
                    t.copy_(mean);
                }
                foreach (var (name, t) in first.Extra)
                {
                    using var mean = sums["extra:" + name] / checkpointDirs.Count;
                    t.copy_(mean);
                }
            }
            var metadata = new Dictionary<string, string>
            {
                ["averaging"] = "uniform",
                ["averaged_from"] = string.Join(",", hashes),
            };
            Checkpoint.Save(outDir, first.Model, first.Tokenizer, first.Extra, metadata);
            return Checkpoint.ComputeHash(outDir);
        }
        finally
        {
            foreach (var t in sums.Values) t.Dispose();
            Dispose(first);
        }
    }

    private static string DescribeDifference(LlamaConfig a, LlamaConfig b)
    {
        foreach (var p in typeof(LlamaConfig).GetProperties())
        {
            var (x, y) = (p.GetValue(a), p.GetValue(b));
            var same = x is Array ax && y is Array ay ? ax.Cast<object>().SequenceEqual(ay.Cast<object>()) : Equals(x, y);
            if (!same) return $"{p.Name} is {y}, expected {x}";
        }
        return "serialized JSON differs";
    }

    private static void Dispose(LoadedCheckpoint ck)
    {
        ck.Model.Dispose();
        foreach (var t in ck.Extra.Values) t.Dispose();
    }
}
