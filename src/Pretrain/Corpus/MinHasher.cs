namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// MinHash signatures of a document's word shingles (Broder 1997): entry i is the minimum over shingles s of
/// h_i(s) = a_i·s + b_i (mod 2⁶⁴), keeping the high 32 bits. With odd random a_i this is multiply-add-shift hashing
/// (Dietzfelbinger et al. 1997), whose high bits are close to uniform, so P[entry i equal] ≈ Jaccard(A, B).
/// </summary>
public sealed class MinHasher
{
    private readonly ulong[] _a;
    private readonly ulong[] _b;
    private readonly int _shingle;

    public int Permutations => _a.Length;

    public MinHasher(CorpusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _shingle = options.ShingleSize;
        var random = new Random(options.Seed);
        _a = new ulong[options.Permutations];
        _b = new ulong[options.Permutations];
        for (var i = 0; i < _a.Length; i++)
        {
            _a[i] = (ulong)random.NextInt64() << 1 | 1UL;
            _b[i] = (ulong)random.NextInt64();
        }
    }

    /// <summary>The shingle hashes of a word sequence: every window of ShingleSize words, or the whole sequence when shorter.</summary>
    public IEnumerable<ulong> Shingles(IReadOnlyList<ulong> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var array = words as ulong[] ?? words.ToArray();
        if (array.Length == 0) yield break;
        var n = Math.Min(_shingle, array.Length);
        for (var i = 0; i + n <= array.Length; i++) yield return Hashing.Window(array, i, n);
    }

    /// <summary>The signature (length <see cref="Permutations"/>); all entries uint.MaxValue for a document with no words.</summary>
    public uint[] Signature(IReadOnlyList<ulong> words)
    {
        var mins = new ulong[_a.Length];
        Array.Fill(mins, ulong.MaxValue);
        var a = _a.AsSpan();
        var b = _b.AsSpan();
        foreach (var s in Shingles(words))
            for (var i = 0; i < mins.Length; i++)
            {
                var h = a[i] * s + b[i];
                if (h < mins[i]) mins[i] = h;
            }
        var signature = new uint[mins.Length];
        for (var i = 0; i < mins.Length; i++) signature[i] = (uint)(mins[i] >> 32);
        return signature;
    }
}
