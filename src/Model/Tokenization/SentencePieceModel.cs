using System.Text;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// A SentencePiece <c>tokenizer.model</c> (ModelProto) read and applied as sentencepiece does, for models without a
/// precompiled normalization map (Llama, Llama 2, Mistral, TinyLlama, Gemma: normalizer "identity"). BPE merges
/// the adjacent pair whose concatenation scores highest, leftmost first (bpe_model.cc); unigram takes the Viterbi
/// path over piece scores with unknown characters at min_score - 10 (unigram_model.cc); user-defined pieces are
/// never split; with byte_fallback an unknown piece becomes its UTF-8 bytes as &lt;0xNN&gt;.
/// </summary>
internal sealed class SentencePieceModel
{
    private enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly PieceType[] _types;
    private readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);   // normal, user-defined, unused
    private readonly int[] _byteIds = new int[256];
    private readonly AddedTokens _userDefined;
    private readonly int _maxPieceChars;
    private readonly float _minScore, _maxScore;

    public bool IsBpe { get; }
    public bool ByteFallback { get; }
    public bool AddDummyPrefix { get; } = true;
    public bool RemoveExtraWhitespaces { get; } = true;
    public bool EscapeWhitespaces { get; } = true;
    public bool HasCharsMap { get; }
    public int UnkId { get; } = -1;
    public int VocabSize => _pieces.Length;

    /// <exception cref="InvalidDataException">Not a ModelProto; the message says what was wrong.</exception>
    public SentencePieceModel(byte[] proto)
    {
        var pieces = new List<(string Piece, float Score, PieceType Type)>();
        var modelType = 1;
        var reader = new ProtoReader(proto);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == 2) pieces.Add(ReadPiece(reader.Bytes()));
            else if (field == 2 && wire == 2)
            {
                var spec = new ProtoReader(reader.Bytes());
                while (spec.Next(out var f, out var w))
                    if (f == 3 && w == 0) modelType = (int)spec.Varint();
                    else if (f == 35 && w == 0) ByteFallback = spec.Varint() != 0;
                    else spec.Skip(w);
            }
            else if (field == 3 && wire == 2)
            {
                var spec = new ProtoReader(reader.Bytes());
                while (spec.Next(out var f, out var w))
                    if (f == 2 && w == 2) HasCharsMap = spec.Bytes().Length > 0;
                    else if (f == 3 && w == 0) AddDummyPrefix = spec.Varint() != 0;
                    else if (f == 4 && w == 0) RemoveExtraWhitespaces = spec.Varint() != 0;
                    else if (f == 5 && w == 0) EscapeWhitespaces = spec.Varint() != 0;
                    else spec.Skip(w);
            }
            else reader.Skip(wire);
        }
        if (pieces.Count == 0) throw new InvalidDataException("no pieces (field 1 of ModelProto)");
        if (modelType is not (1 or 2)) throw new InvalidDataException($"model_type {modelType} (WORD or CHAR) is not supported; expected UNIGRAM (1) or BPE (2)");
        IsBpe = modelType == 2;
        _pieces = pieces.Select(p => p.Piece).ToArray();
        _scores = pieces.Select(p => p.Score).ToArray();
        _types = pieces.Select(p => p.Type).ToArray();
        Array.Fill(_byteIds, -1);
        var userDefined = new List<AddedTokens.Token>();
        _minScore = float.MaxValue;
        _maxScore = float.MinValue;
        for (var id = 0; id < _pieces.Length; id++)
        {
            switch (_types[id])
            {
                case PieceType.Normal or PieceType.UserDefined or PieceType.Unused:
                    _vocab.TryAdd(_pieces[id], id);
                    if (_types[id] == PieceType.UserDefined) userDefined.Add(new AddedTokens.Token(_pieces[id], id, Special: false));
                    if (_types[id] == PieceType.Normal) { _minScore = Math.Min(_minScore, _scores[id]); _maxScore = Math.Max(_maxScore, _scores[id]); }
                    _maxPieceChars = Math.Max(_maxPieceChars, _pieces[id].Length);
                    break;
                case PieceType.Unknown: UnkId = id; break;
                case PieceType.Byte when _pieces[id] is { Length: 6 } b && b.StartsWith("<0x", StringComparison.Ordinal):
                    _byteIds[Convert.ToInt32(b[3..5], 16)] = id;
                    break;
            }
        }
        if (UnkId < 0) throw new InvalidDataException("no piece of type UNKNOWN");
        _userDefined = new AddedTokens(userDefined);
    }

    public string Piece(int id) => _pieces[id];

    public bool IsControlOrUnknown(int id) => _types[id] is PieceType.Control or PieceType.Unknown;

    public bool IsByte(int id, out byte value)
    {
        value = 0;
        if (_types[id] != PieceType.Byte) return false;
        value = (byte)Convert.ToInt32(_pieces[id][3..5], 16);
        return true;
    }

    public int? Lookup(string piece)
    {
        for (var id = 0; id < _pieces.Length; id++) if (_pieces[id] == piece) return id;
        return null;
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        var normalized = Normalize(text);
        foreach (var (segment, id) in _userDefined.Split(normalized))
        {
            if (id is { } ud) { ids.Add(ud); continue; }
            var pieces = IsBpe ? Bpe(segment) : Unigram(segment);
            foreach (var p in pieces) Emit(p, ids);
        }
        return ids;
    }

    private string Normalize(string text)
    {
        if (RemoveExtraWhitespaces)
        {
            var sb = new StringBuilder(text.Length);
            foreach (var c in text.Trim(' '))
                if (c != ' ' || sb.Length == 0 || sb[^1] != ' ') sb.Append(c);
            text = sb.ToString();
        }
        if (text.Length == 0) return text;
        if (AddDummyPrefix) text = " " + text;
        return EscapeWhitespaces ? text.Replace(' ', '▁') : text;
    }

    private void Emit(string piece, List<int> ids)
    {
        if (_vocab.TryGetValue(piece, out var id) && _types[id] != PieceType.Unused) { ids.Add(id); return; }
        if (ByteFallback)
        {
            foreach (var b in Encoding.UTF8.GetBytes(piece)) ids.Add(_byteIds[b] >= 0 ? _byteIds[b] : UnkId);
            return;
        }
        if (ids.Count == 0 || ids[^1] != UnkId) ids.Add(UnkId);   // consecutive unknowns fuse into one
    }

    private static List<string> Chars(string s)
    {
        var list = new List<string>(s.Length);
        for (var i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1) list.Add(s.Substring(i, char.IsSurrogatePair(s, i) ? 2 : 1));
        return list;
    }

    private List<string> Bpe(string text)
    {
        var symbols = Chars(text);
        var next = Enumerable.Range(1, symbols.Count).Select(i => i < symbols.Count ? i : -1).ToArray();
        var prev = Enumerable.Range(-1, symbols.Count).ToArray();
        var alive = Enumerable.Repeat(true, symbols.Count).ToArray();
        // Highest score first, then leftmost: sentencepiece's agenda order.
        var agenda = new PriorityQueue<(int Left, string Merged), (float NegScore, int Left)>();
        void Push(int left)
        {
            if (left < 0 || next[left] < 0) return;
            var merged = symbols[left] + symbols[next[left]];
            if (_vocab.TryGetValue(merged, out var id) && _types[id] != PieceType.Unused) agenda.Enqueue((left, merged), (-_scores[id], left));
        }
        for (var i = 0; i + 1 < symbols.Count; i++) Push(i);
        while (agenda.TryDequeue(out var item, out _))
        {
            var (left, merged) = item;
            if (!alive[left] || next[left] < 0 || symbols[left] + symbols[next[left]] != merged) continue;
            var right = next[left];
            symbols[left] = merged;
            alive[right] = false;
            next[left] = next[right];
            if (next[left] >= 0) prev[next[left]] = left;
            Push(prev[left]);
            Push(left);
        }
        var result = new List<string>();
        for (var i = 0; i >= 0 && symbols.Count > 0; i = next[i]) result.Add(symbols[i]);
        return result;
    }

    private List<string> Unigram(string text)
    {
        var chars = Chars(text);
        var n = chars.Count;
        var offsets = new int[n + 1];
        for (var i = 0; i < n; i++) offsets[i + 1] = offsets[i] + chars[i].Length;
        var best = new float[n + 1];
        var from = new int[n + 1];
        var reached = new bool[n + 1];
        reached[0] = true;
        var unkScore = _minScore - 10f;
        for (var start = 0; start < n; start++)
        {
            if (!reached[start]) continue;
            var hasSingle = false;
            for (var end = start + 1; end <= n && offsets[end] - offsets[start] <= _maxPieceChars; end++)
            {
                if (!_vocab.TryGetValue(text[offsets[start]..offsets[end]], out var id) || _types[id] == PieceType.Unused) continue;
                var score = _types[id] == PieceType.UserDefined ? (end - start) * _maxScore - 0.1f : _scores[id];
                Relax(start, end, score);
                if (end == start + 1) hasSingle = true;
            }
            if (!hasSingle) Relax(start, start + 1, unkScore);
        }
        var pieces = new List<string>();
        for (var end = n; end > 0; end = from[end]) pieces.Add(text[offsets[from[end]]..offsets[end]]);
        pieces.Reverse();
        return pieces;

        void Relax(int start, int end, float score)
        {
            var candidate = best[start] + score;
            if (reached[end] && candidate <= best[end]) return;
            reached[end] = true;
            best[end] = candidate;
            from[end] = start;
        }
    }

    private static (string, float, PieceType) ReadPiece(byte[] bytes)
    {
        var r = new ProtoReader(bytes);
        string piece = "";
        float score = 0;
        var type = PieceType.Normal;
        while (r.Next(out var f, out var w))
            if (f == 1 && w == 2) piece = Encoding.UTF8.GetString(r.Bytes());
            else if (f == 2 && w == 5) score = r.Float();
            else if (f == 3 && w == 0) type = (PieceType)r.Varint();
            else r.Skip(w);
        return (piece, score, type);
    }

    /// <summary>The protobuf wire format, just enough to read a ModelProto.</summary>
    private sealed class ProtoReader(byte[] data)
    {
        private int _pos;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_pos >= data.Length) return false;
            var key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (_pos >= data.Length || shift > 63) throw new InvalidDataException($"truncated varint at byte {_pos}");
                var b = data[_pos++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
        }

        public byte[] Bytes()
        {
            var length = (int)Varint();
            if (length < 0 || _pos + length > data.Length) throw new InvalidDataException($"field of {length} bytes runs past the end at byte {_pos}");
            var bytes = data.AsSpan(_pos, length).ToArray();
            _pos += length;
            return bytes;
        }

        public float Float()
        {
            if (_pos + 4 > data.Length) throw new InvalidDataException($"truncated float at byte {_pos}");
            var value = BitConverter.ToSingle(data, _pos);
            _pos += 4;
            return value;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2: Bytes(); break;
                case 5: _pos += 4; break;
                default: throw new InvalidDataException($"unknown wire type {wire} at byte {_pos}");
            }
        }
    }
}
