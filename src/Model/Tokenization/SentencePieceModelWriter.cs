using System.Text;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// Serialises a BPE vocabulary as SentencePiece's <c>tokenizer.model</c> (protobuf <c>sentencepiece.ModelProto</c>,
/// written by hand: pieces = 1, trainer_spec = 2, normalizer_spec = 3), so <c>sentencepiece</c> and
/// Microsoft.ML.Tokenizers load it.
/// </summary>
public static class SentencePieceModelWriter
{
    public static byte[] Write(IReadOnlyList<SentencePieceEntry> pieces, SentencePieceBpeOptions options)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(options);
        using var model = new MemoryStream();
        foreach (var p in pieces)
        {
            using var piece = new MemoryStream();
            String(piece, 1, p.Piece);
            Tag(piece, 2, 5); piece.Write(BitConverter.GetBytes(p.Score)); // float, little-endian fixed32
            Varint(piece, 3, (ulong)p.Type);
            Message(model, 1, piece);
        }
        using (var trainer = new MemoryStream())
        {
            Varint(trainer, 3, 2);                                  // model_type: BPE
            Varint(trainer, 4, (ulong)pieces.Count);                // vocab_size
            Tag(trainer, 10, 5); trainer.Write(BitConverter.GetBytes((float)options.CharacterCoverage));
            Varint(trainer, 20, (ulong)options.MaxPieceLength);     // max_sentencepiece_length
            Varint(trainer, 25, options.SplitDigits ? 1UL : 0UL);   // split_digits
            Varint(trainer, 35, 1);                                 // byte_fallback
            Varint(trainer, 40, 0);                                 // unk_id
            Varint(trainer, 41, 1);                                 // bos_id
            Varint(trainer, 42, 2);                                 // eos_id
            Message(model, 2, trainer);
        }
        using (var normalizer = new MemoryStream())
        {
            String(normalizer, 1, "identity");
            Varint(normalizer, 3, 1);   // add_dummy_prefix
            Varint(normalizer, 4, 0);   // remove_extra_whitespaces: off, text is kept as it is (Llama)
            Varint(normalizer, 5, 1);   // escape_whitespaces: ' ' -> '▁'
            Message(model, 3, normalizer);
        }
        return model.ToArray();
    }

    private static void Tag(Stream s, int field, int wireType) => Raw(s, (ulong)(field << 3 | wireType));

    private static void Varint(Stream s, int field, ulong value)
    {
        Tag(s, field, 0);
        Raw(s, value);
    }

    private static void String(Stream s, int field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Tag(s, field, 2);
        Raw(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void Message(Stream s, int field, MemoryStream body)
    {
        Tag(s, field, 2);
        Raw(s, (ulong)body.Length);
        body.WriteTo(s);
    }

    private static void Raw(Stream s, ulong value)
    {
        while (value >= 0x80) { s.WriteByte((byte)(value | 0x80)); value >>= 7; }
        s.WriteByte((byte)value);
    }
}
