namespace PostTrain.Sampling;

/// <summary>
/// Splits a prompt set into K contiguous shards for K workers and merges their outputs back in shard order. Because
/// each (seed, prompt id, sample index) has its own random stream, a sharded run gives exactly the unsharded output.
/// </summary>
public static class SamplingShards
{
    /// <summary>K contiguous chunks whose sizes differ by at most one (the first ones larger); empty shards when K exceeds the count.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> Split<T>(IReadOnlyList<T> items, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (shardCount < 1) throw new ArgumentOutOfRangeException(nameof(shardCount), shardCount, "expected >= 1 shard");
        var shards = new IReadOnlyList<T>[shardCount];
        int size = items.Count / shardCount, extra = items.Count % shardCount, start = 0;
        for (var k = 0; k < shardCount; k++)
        {
            var n = size + (k < extra ? 1 : 0);
            shards[k] = items.Skip(start).Take(n).ToArray();
            start += n;
        }
        return shards;
    }

    /// <summary>Concatenates shard outputs by shard index, whatever order they arrived in. Each index 0..K−1 must appear once.</summary>
    public static IReadOnlyList<SampledResponse> Merge(IEnumerable<(int ShardIndex, IReadOnlyList<SampledResponse> Responses)> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var byIndex = new SortedDictionary<int, IReadOnlyList<SampledResponse>>();
        foreach (var (index, responses) in shards)
        {
            if (index < 0) throw new ArgumentException($"shard index {index}, expected >= 0", nameof(shards));
            if (!byIndex.TryAdd(index, responses ?? throw new ArgumentException($"shard {index} has no responses list", nameof(shards))))
                throw new ArgumentException($"shard {index} appears twice", nameof(shards));
        }
        for (var k = 0; k < byIndex.Count; k++)
            if (!byIndex.ContainsKey(k))
                throw new ArgumentException($"shard {k} is missing; got shards {string.Join(", ", byIndex.Keys)}, expected 0..{byIndex.Count - 1}", nameof(shards));
        var merged = byIndex.Values.SelectMany(r => r).ToArray();
        var seen = new HashSet<(string, int)>();
        foreach (var r in merged)
            if (!seen.Add((r.PromptId, r.SampleIndex)))
                throw new ArgumentException($"prompt '{r.PromptId}' sample {r.SampleIndex} appears in more than one shard", nameof(shards));
        return merged;
    }

    /// <summary>Merges shard files given in shard order (file i is shard i) into <paramref name="outputPath"/>; returns the merged responses.</summary>
    public static IReadOnlyList<SampledResponse> MergeFiles(IReadOnlyList<string> shardFilesInOrder, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(shardFilesInOrder);
        var merged = Merge(shardFilesInOrder.Select((path, i) => (i, SampleFile.Read(path))));
        SampleFile.Write(outputPath, merged);
        return merged;
    }
}
