namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// Locality-sensitive hashing by banding (Leskovec, Rajaraman &amp; Ullman, "Mining of Massive Datasets", sec. 3.4):
/// the signature is cut into b bands of r rows and two documents become candidates when one band agrees in every row,
/// with probability 1 − (1 − Jʳ)ᵇ. A candidate is confirmed when the fraction of equal signature entries reaches the
/// threshold. The index holds, per kept document, one 32-bit key per band and the signature truncated to 16 bits a
/// row (b-bit minwise hashing, Li &amp; König 2010: a chance agreement costs 2⁻¹⁶ of the estimate), never its text:
/// about 20·b + 2·(b·r) bytes a document, 900 bytes at the defaults.
/// </summary>
public sealed class LshIndex
{
    private const int ChunkDocuments = 4096;
    private readonly int _bands;
    private readonly int _rows;
    private readonly double _threshold;
    private readonly Dictionary<uint, int>[] _buckets;
    private readonly List<ushort[]> _signatures = [];

    /// <summary>Documents added.</summary>
    public int Count { get; private set; }

    public LshIndex(CorpusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _bands = options.Bands;
        _rows = options.Permutations / options.Bands;
        _threshold = options.Threshold;
        _buckets = Enumerable.Range(0, _bands).Select(_ => new Dictionary<uint, int>()).ToArray();
    }

    /// <summary>The first added document that shares a band with <paramref name="signature"/> and whose estimated Jaccard
    /// similarity reaches the threshold, or null.</summary>
    public (int Document, double Similarity)? FindNearDuplicate(ReadOnlySpan<uint> signature)
    {
        CheckLength(signature);
        for (var band = 0; band < _bands; band++)
        {
            if (!_buckets[band].TryGetValue(BandKey(signature, band), out var candidate)) continue;
            var similarity = Similarity(signature, candidate);
            if (similarity >= _threshold) return (candidate, similarity);
        }
        return null;
    }

    /// <summary>Adds a document's signature; returns its number (0, 1, ...). A band key another document already holds keeps that one.</summary>
    public int Add(ReadOnlySpan<uint> signature)
    {
        CheckLength(signature);
        var document = Count++;
        if (document % ChunkDocuments == 0) _signatures.Add(new ushort[ChunkDocuments * signature.Length]);
        var stored = _signatures[^1].AsSpan(document % ChunkDocuments * signature.Length, signature.Length);
        for (var i = 0; i < signature.Length; i++) stored[i] = (ushort)(signature[i] >> 16);
        for (var band = 0; band < _bands; band++) _buckets[band].TryAdd(BandKey(signature, band), document);
        return document;
    }

    /// <summary>Fraction of equal 16-bit signature entries with added document <paramref name="document"/>.</summary>
    public double Similarity(ReadOnlySpan<uint> signature, int document)
    {
        var length = signature.Length;
        var stored = _signatures[document / ChunkDocuments].AsSpan(document % ChunkDocuments * length, length);
        var equal = 0;
        for (var i = 0; i < length; i++) if ((ushort)(signature[i] >> 16) == stored[i]) equal++;
        return (double)equal / length;
    }

    private uint BandKey(ReadOnlySpan<uint> signature, int band)
    {
        var h = (ulong)band;
        for (var i = band * _rows; i < (band + 1) * _rows; i++) h = Hashing.Combine(h, signature[i]);
        return (uint)(h >> 32);
    }

    private void CheckLength(ReadOnlySpan<uint> signature)
    {
        if (signature.Length != _bands * _rows)
            throw new ArgumentException($"signature has {signature.Length} entries, expected {_bands * _rows} (Permutations)", nameof(signature));
    }
}
