using PostTrain.Model.Checkpoints;
using Ml = Microsoft.ML.Tokenizers;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// A Llama/Mistral <c>tokenizer.model</c> (SentencePiece BPE or unigram protobuf), so an imported Hugging Face
/// checkpoint keeps its own vocabulary. Models with sentencepiece's identity normalizer (every Llama-family model) are
/// encoded by <see cref="SentencePieceModel"/>, which matches sentencepiece id for id; a model with a precompiled
/// normalization map (NFKC) goes through Microsoft.ML.Tokenizers, which only approximates that normalization. SentencePiece adds a dummy prefix space, so
/// Decode(Encode(s)) equals s only up to that leading space; PostTrain's own runs use <see cref="ByteBpeTokenizer"/>.
/// </summary>
public sealed class SentencePieceTokenizer : ITokenizer
{
    public const string ModelFile = "tokenizer.model";

    private readonly Ml.SentencePieceTokenizer _inner;
    private readonly byte[] _modelBytes;
    private readonly IReadOnlyDictionary<string, int> _vocab;
    private readonly HashSet<int> _specialIds;

    private readonly AddedTokens _added;
    private readonly SentencePieceModel? _model;    // null when the model has a precompiled charsmap

    private SentencePieceTokenizer(Ml.SentencePieceTokenizer inner, SentencePieceModel model, byte[] modelBytes, TokenizerConfig config)
    {
        Config = config;
        _model = model.HasCharsMap ? null : model;
        _inner = inner;
        _modelBytes = modelBytes;
        _vocab = inner.Vocabulary;
        VocabSize = _vocab.Count == 0 ? 0 : _vocab.Values.Max() + 1;
        BosId = inner.BeginningOfSentenceId;
        EosId = inner.EndOfSentenceId;
        // Llama 2 has no pad piece; padding positions are masked anyway, so eos is the conventional stand-in.
        PadId = _vocab.TryGetValue("<pad>", out var pad) ? pad : EosId;
        _specialIds = [BosId, EosId, inner.UnknownId];
        if (inner.SpecialTokens is { } extra) foreach (var id in extra.Values) _specialIds.Add(id);
        // Hugging Face's LlamaTokenizer recognises its specials inside text; sentencepiece itself never does.
        _added = new AddedTokens(_specialIds.Where(id => id >= 0 && id < VocabSize)
            .Select(id => new AddedTokens.Token(inner.Decode([id], considerSpecialTokens: true) ?? "", id, Special: true)));
    }

    public int VocabSize { get; }
    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }
    public TokenizerConfig Config { get; }

    /// <summary>Loads <c>tokenizer.model</c>; a file that is not a SentencePiece model fails with its path and the parser's reason.</summary>
    public static SentencePieceTokenizer Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new InvalidDataException($"{path}: empty file; expected a SentencePiece ModelProto");
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            var model = new SentencePieceModel(bytes);
            var inner = Ml.SentencePieceTokenizer.Create(stream, false, false);
            return new SentencePieceTokenizer(inner, model, bytes, TokenizerConfig.Load(Path.GetDirectoryName(Path.GetFullPath(path))!));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: not a usable SentencePiece model ({e.GetType().Name}: {e.Message})", e);
        }
    }

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_model is not null) return [.. _model.Encode(text)];
        return [.. _inner.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false, considerPreTokenization: true, considerNormalization: true)];
    }

    /// <summary>Each text between specials is encoded on its own, dummy prefix included (HF's legacy Llama behaviour).</summary>
    public int[] EncodeWithSpecials(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (segment, id) in _added.Split(text))
            if (id is { } special) ids.Add(special); else ids.AddRange(Encode(segment));
        return [.. ids];
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        foreach (var id in ids)
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} is outside the vocabulary [0, {VocabSize})");
        if (_model is null) return _inner.Decode(ids.ToArray(), considerSpecialTokens: true);
        var text = new System.Text.StringBuilder();
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (_model.IsByte(id, out var b)) { bytes.Add(b); continue; }
            if (bytes.Count > 0) { text.Append(System.Text.Encoding.UTF8.GetString(bytes.ToArray())); bytes.Clear(); }
            text.Append(_model.IsControlOrUnknown(id) ? _model.Piece(id) : _model.Piece(id).Replace('▁', ' '));
        }
        if (bytes.Count > 0) text.Append(System.Text.Encoding.UTF8.GetString(bytes.ToArray()));
        // The dummy prefix sentencepiece added is not part of the text.
        return _model.AddDummyPrefix && text.Length > 0 && text[0] == ' ' ? text.ToString(1, text.Length - 1) : text.ToString();
    }

    public int? TokenToId(string special) => _vocab.TryGetValue(special, out var id) ? id : null;

    public bool IsSpecial(int id) => _specialIds.Contains(id);

    /// <summary>Writes the original protobuf bytes back unchanged, so the checkpoint stays loadable by sentencepiece itself.</summary>
    public void Save(string dir) => AtomicFile.WriteAllBytes(Path.Combine(dir, ModelFile), _modelBytes);
}
