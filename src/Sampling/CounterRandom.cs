using System.Text;
using static TorchSharp.torch;

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

    /// <summary>
    /// Standard Gumbel noise for step <paramref name="step"/> of stream <paramref name="key"/> into <paramref name="into"/> (one per vocabulary id):
    /// argmax(logits/T + g) is a sample from softmax(logits/T) (the Gumbel-max trick).
    /// </summary>
    public static void Gumbel(ulong key, int step, Span<float> into)
    {
        var baseCounter = (ulong)step * (ulong)into.Length;
        for (var v = 0; v < into.Length; v++)
            into[v] = (float)-Math.Log(-Math.Log(Uniform(key, baseCounter + (ulong)v)));
    }

    /// <summary>
    /// <see cref="Gumbel(ulong, int, Span{float})"/> for many streams at once, on the logits' device: row a holds step
    /// <paramref name="steps"/>[a] of stream <paramref name="keys"/>[a] (both (A,) int64, keys as the ulong's bits), (A, V) float32.
    /// The hash is the same 64-bit arithmetic (two's-complement wrap-around), so the uniforms are bit-identical to the scalar path.
    /// </summary>
    public static Tensor Gumbel(Tensor keys, Tensor steps, long vocab)
    {
        using var noise = new GumbelNoise(keys.shape[0], vocab, keys.device);
        return noise.Next(keys, steps).clone();
    }
}
