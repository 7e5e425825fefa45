namespace PostTrain.Pretrain.Corpus;

/// <summary>Fast, seedless 64-bit hashes for words, lines and shingles (FNV-1a, then the SplitMix64 finaliser so every
/// output bit depends on every input bit, which the MinHash permutations need).</summary>
internal static class Hashing
{
    public static ulong Chars(ReadOnlySpan<char> text)
    {
        var h = 14695981039346656037UL;
        foreach (var c in text) h = (h ^ c) * 1099511628211UL;
        return Mix(h);
    }

    public static ulong Combine(ulong seed, ulong value) => Mix(seed * 0x9E3779B97F4A7C15UL + value);

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Hash of the <paramref name="n"/> values from <paramref name="start"/>: one shingle or n-gram.</summary>
    public static ulong Window(ReadOnlySpan<ulong> values, int start, int n)
    {
        var h = (ulong)n;
        for (var i = start; i < start + n; i++) h = Combine(h, values[i]);
        return h;
    }
}
