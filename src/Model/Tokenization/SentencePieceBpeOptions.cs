namespace PostTrain.Model.Tokenization;

/// <summary>
/// Every knob of <see cref="SentencePieceBpeTrainer"/>, named after SentencePiece's own trainer flags, with the
/// choices of baichuan-7B and Llama: BPE, digits split, byte fallback, identity normalisation with a dummy prefix.
/// </summary>
public sealed record SentencePieceBpeOptions
{
    /// <summary>Default 8000 (SentencePiece's default). All pieces: 3 specials + 256 bytes + characters + merges.</summary>
    public int VocabSize { get; init; } = 8000;

    /// <summary>Default 0.9995 (SentencePiece's default for scripts with many characters). Share of character
    /// occurrences that get a piece of their own; the rarest rest are spelled with byte pieces.</summary>
    public double CharacterCoverage { get; init; } = 0.9995;

    /// <summary>Default 16 (SentencePiece's max_sentencepiece_length). Longest piece, in characters.</summary>
    public int MaxPieceLength { get; init; } = 16;

    /// <summary>Default true (baichuan-7B, Llama). Every digit is its own piece, so numbers are spelled digit by digit.</summary>
    public bool SplitDigits { get; init; } = true;

    /// <summary>Default 2. Pairs seen fewer times are never merged; the vocabulary may then come out smaller.</summary>
    public int MinPairCount { get; init; } = 2;

    public SentencePieceBpeOptions Validate()
    {
        void Check(bool ok, string name, object value, string expected)
        {
            if (!ok) throw new ArgumentException($"option {name} is {value}, expected {expected}", name);
        }
        Check(VocabSize >= SentencePieceBpeTrainer.FixedPieces + 1, nameof(VocabSize), VocabSize, $">= {SentencePieceBpeTrainer.FixedPieces + 1} (3 specials + 256 bytes + at least one character)");
        Check(CharacterCoverage is > 0 and <= 1, nameof(CharacterCoverage), CharacterCoverage, "in (0, 1]");
        Check(MaxPieceLength >= 2, nameof(MaxPieceLength), MaxPieceLength, ">= 2");
        Check(MinPairCount >= 1, nameof(MinPairCount), MinPairCount, ">= 1");
        return this;
    }
}
