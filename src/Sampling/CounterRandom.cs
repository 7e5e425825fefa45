using System.Text;

namespace PostTrain.Sampling;

/// <summary>
/// Counter-based randomness (SplitMix64, Steele et al. 2014): the value for (stream, counter) is a pure hash, so each
/// (seed, prompt id, sample index) stream gives the same draws whatever batch, order or worker it runs in.
/// </summary>
public static class CounterRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>SplitMix64's finaliser: a bijective 64-bit mix.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Key of one (seed, prompt id, sample index) stream. The prompt id is hashed with FNV-1a over UTF-8 (stable across processes, unlike string.GetHashCode).</summary>
    public static ulong StreamKey(long seed, string promptId, int sampleIndex)
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(promptId))
        {
            h ^= b;
            h *= 0x100000001B3UL;
        }
        return Mix(Mix(Mix((ulong)seed) ^ h) + (ulong)sampleIndex * Golden);
    }

    /// <summary>A uniform in (0, 1) for <paramref name="counter"/> of stream <paramref name="key"/>.</summary>
    public static double Uniform(ulong key, ulong counter) => ((Mix(key + counter * Golden) >> 11) + 0.5) * (1.0 / (1UL << 53));
}
