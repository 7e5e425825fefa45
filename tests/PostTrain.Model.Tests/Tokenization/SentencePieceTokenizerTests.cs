using Google.Protobuf;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

public sealed class SentencePieceTokenizerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pt-sp-" + Guid.NewGuid().ToString("N"));

    public SentencePieceTokenizerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Hand-encodes a tiny SentencePiece BPE ModelProto (sentencepiece_model.proto field numbers), since no real
    /// tokenizer.model can be downloaded here. Pieces: unk, s, /s, then merges ranked by score.
    /// </summary>
    internal static byte[] TinyModel()
    {
        (string Piece, float Score, int Type)[] pieces =
        [
            ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3),
            ("▁", -1, 1), ("h", -2, 1), ("e", -3, 1), ("l", -4, 1), ("o", -5, 1), ("w", -6, 1), ("r", -7, 1), ("d", -8, 1),
            ("▁h", -9, 1), ("ll", -10, 1), ("▁he", -11, 1), ("▁hell", -12, 1), ("▁hello", -13, 1), ("▁w", -14, 1), ("or", -15, 1),
        ];
        using var ms = new MemoryStream();
        var output = new CodedOutputStream(ms);
        foreach (var (piece, score, type) in pieces)
        {
            var inner = new MemoryStream();
            var p = new CodedOutputStream(inner);
            p.WriteTag(1, WireFormat.WireType.LengthDelimited); p.WriteString(piece);
            p.WriteTag(2, WireFormat.WireType.Fixed32); p.WriteFloat(score);
            p.WriteTag(3, WireFormat.WireType.Varint); p.WriteEnum(type);
            p.Flush();
            output.WriteTag(1, WireFormat.WireType.LengthDelimited); output.WriteBytes(ByteString.CopyFrom(inner.ToArray()));
        }
        var trainer = new MemoryStream();
        var t = new CodedOutputStream(trainer);
        t.WriteTag(3, WireFormat.WireType.Varint); t.WriteEnum(2);       // model_type = BPE
        t.WriteTag(40, WireFormat.WireType.Varint); t.WriteInt32(0);     // unk_id
        t.WriteTag(41, WireFormat.WireType.Varint); t.WriteInt32(1);     // bos_id
        t.WriteTag(42, WireFormat.WireType.Varint); t.WriteInt32(2);     // eos_id
        t.WriteTag(43, WireFormat.WireType.Varint); t.WriteInt32(-1);    // pad_id
        t.Flush();
        output.WriteTag(2, WireFormat.WireType.LengthDelimited); output.WriteBytes(ByteString.CopyFrom(trainer.ToArray()));
        var normalizer = new MemoryStream();
        var n = new CodedOutputStream(normalizer);
        n.WriteTag(1, WireFormat.WireType.LengthDelimited); n.WriteString("identity");
        n.WriteTag(3, WireFormat.WireType.Varint); n.WriteBool(true);    // add_dummy_prefix
        n.WriteTag(4, WireFormat.WireType.Varint); n.WriteBool(false);   // remove_extra_whitespaces
        n.WriteTag(5, WireFormat.WireType.Varint); n.WriteBool(true);    // escape_whitespaces
        n.Flush();
        output.WriteTag(3, WireFormat.WireType.LengthDelimited); output.WriteBytes(ByteString.CopyFrom(normalizer.ToArray()));
        output.Flush();
        return ms.ToArray();
    }

    [Fact]
    public void Load_HandBuiltModel_EncodesWithMergesAndDecodes()
    {
        var path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllBytes(path, TinyModel());
        var tok = SentencePieceTokenizer.Load(path);
        Assert.Equal(18, tok.VocabSize);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        var ids = tok.Encode("hello world");
        Assert.Equal(15, ids[0]); // "▁hello" merged whole
        Assert.Equal("hello world", tok.Decode(ids));
        Assert.True(tok.IsSpecial(1));
        Assert.False(tok.IsSpecial(15));
        Assert.Equal(1, tok.TokenToId("<s>"));
        Assert.Null(tok.TokenToId(SpecialTokens.EndOfTurn));
    }

    [Fact]
    public void Save_LoadedModel_RoundTripsThroughLoader()
    {
        var src = Path.Combine(_dir, "src");
        Directory.CreateDirectory(src);
        File.WriteAllBytes(Path.Combine(src, "tokenizer.model"), TinyModel());
        var tok = TokenizerLoader.Load(src);
        Assert.IsType<SentencePieceTokenizer>(tok);
        var dst = Path.Combine(_dir, "dst");
        tok!.Save(dst);
        Assert.Equal(TinyModel(), File.ReadAllBytes(Path.Combine(dst, "tokenizer.model")));
    }

    [Fact]
    public void TokenizerLoaderLoad_MetaspaceJsonBesideModel_FallsBackToSentencePiece()
    {
        File.WriteAllBytes(Path.Combine(_dir, "tokenizer.model"), TinyModel());
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), """
            {"normalizer": {"type": "Sequence", "normalizers": [{"type": "Replace"}]}, "pre_tokenizer": null, "model": {"type": "BPE", "vocab": {}, "merges": []}}
            """);
        Assert.IsType<SentencePieceTokenizer>(TokenizerLoader.Load(_dir));
    }

    [Fact]
    public void TokenizerLoaderLoad_BothFilesBad_ErrorNamesBoth()
    {
        File.WriteAllBytes(Path.Combine(_dir, "tokenizer.model"), [0xFF, 0xFF, 0xFF]);
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "tokenizer.json"), e.Message);
        Assert.Contains(Path.Combine(_dir, "tokenizer.model"), e.Message);
    }

    [Fact]
    public void Load_CorruptFile_ErrorNamesFile()
    {
        var path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x7A]);
        var e = Assert.Throws<InvalidDataException>(() => SentencePieceTokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("SentencePiece", e.Message);
    }

    [Fact]
    public void Load_EmptyFile_ErrorNamesFile()
    {
        var path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(_dir));
        Assert.Contains(path, e.Message);
    }
}
