using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using PostTrain.Model.Checkpoints;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// Byte-level BPE that PostTrain trains on its own corpus. The 256 byte tokens make every string encodable (no
/// unknown token), digits are always single tokens (arithmetic tasks stay learnable at tiny scale), and the
/// files are Hugging Face's <c>tokenizer.json</c> / <c>tokenizer_config.json</c>, so HF tooling loads a PostTrain
/// checkpoint as is. <see cref="Load"/> also reads other byte-level BPE files whose pre-tokenizer it can reproduce
/// exactly (GPT-2's ByteLevel, Llama 3's Split regex + ByteLevel), so an imported checkpoint keeps its vocabulary.
/// </summary>
public sealed class ByteBpeTokenizer : ITokenizer
{
    public const string TokenizerFile = "tokenizer.json";
    public const string ConfigFile = "tokenizer_config.json";

    private readonly byte[]?[] _tokenBytes;         // id -> bytes; null for specials
    private readonly string[] _tokenStrings;        // id -> vocab string (byte-level alphabet) or special literal
    private readonly int[] _byteIds = new int[256];
    private readonly Dictionary<long, (int Rank, int Merged)> _ranks = [];
    private readonly IReadOnlyList<(int A, int B, int Merged)> _merges;
    private readonly Dictionary<string, int> _specials;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly string _bosToken, _eosToken, _padToken;
    private readonly PreTokenizer _preTokenizer;
    private readonly bool _ignoreMerges;
    private readonly Dictionary<string, int> _byteTokens = new(StringComparer.Ordinal);
    private readonly string? _preTokenizerJson;    // a loaded foreign layout, written back verbatim; null = PostTrain's
    private readonly byte[]? _configBytes;         // a loaded tokenizer_config.json, written back verbatim
    private readonly AddedTokens _added;
    private byte[]? _jsonBytes;                     // a loaded foreign tokenizer.json, written back verbatim (init-only via Load)
    private readonly bool _nfc;

    private ByteBpeTokenizer(byte[]?[] tokenBytes, string[] tokenStrings, IReadOnlyList<(int A, int B, int Merged)> merges,
        Dictionary<string, int> specials, string bos, string eos, string pad,
        PreTokenizer? preTokenizer = null, string? preTokenizerJson = null, bool ignoreMerges = false, byte[]? configBytes = null,
        AddedTokens? added = null, bool nfc = false, TokenizerConfig? config = null)
    {
        _nfc = nfc;
        _added = added ?? new AddedTokens(specials.Select(kv => new AddedTokens.Token(kv.Key, kv.Value, Special: true)));
        _preTokenizer = preTokenizer ?? PreTokenizer.PostTrain;
        _preTokenizerJson = preTokenizerJson;
        _ignoreMerges = ignoreMerges;
        _configBytes = configBytes;
        _tokenBytes = tokenBytes;
        _tokenStrings = tokenStrings;
        _merges = merges;
        _specials = specials;
        Array.Fill(_byteIds, -1);
        for (var id = 0; id < tokenBytes.Length; id++)
        {
            if (tokenBytes[id] is null) continue;
            _byteTokens.TryAdd(tokenStrings[id], id);
            if (tokenBytes[id] is { Length: 1 } single && _byteIds[single[0]] < 0) _byteIds[single[0]] = id;
        }
        for (var r = 0; r < merges.Count; r++)
            _ranks.TryAdd(BpeTrainer.Key(merges[r].A, merges[r].B), (r, merges[r].Merged));
        _bosToken = bos; _eosToken = eos; _padToken = pad;
        BosId = specials[bos]; EosId = specials[eos]; PadId = specials[pad];
        Config = config ?? new TokenizerConfig
        {
            ChatTemplate = ChatTemplate.JinjaTemplate,
            SpecialTokens = new Dictionary<string, string> { ["bos_token"] = bos, ["eos_token"] = eos, ["pad_token"] = pad },
        };
    }

    public int VocabSize => _tokenStrings.Length;
    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }

    /// <summary>How many merges were learned; fewer than asked when the corpus ran out of pairs seen twice.</summary>
    public int MergeCount => _merges.Count;

    /// <summary>
    /// Trains merges until the vocabulary, specials included, reaches <paramref name="vocabSize"/> (so the
    /// embedding table can be sized before training), or until no pair occurs <paramref name="minFrequency"/> times.
    /// </summary>
    public static ByteBpeTokenizer Train(IEnumerable<string> corpus, int vocabSize, IReadOnlyList<string>? specials = null,
        int minFrequency = 2, CancellationToken cancellationToken = default)
    {
        specials ??= SpecialTokens.All;
        var minVocab = 256 + specials.Count;
        if (vocabSize < minVocab)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"vocab size {vocabSize} is below the {minVocab} needed for 256 bytes + {specials.Count} specials");
        foreach (var required in new[] { SpecialTokens.BeginOfText, SpecialTokens.EndOfText, SpecialTokens.Pad })
            if (!specials.Contains(required))
                throw new ArgumentException($"specials must include {required}; got [{string.Join(", ", specials)}]", nameof(specials));
        if (specials.Distinct(StringComparer.Ordinal).Count() != specials.Count)
            throw new ArgumentException($"specials contain duplicates: [{string.Join(", ", specials)}]", nameof(specials));
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);

        var result = BpeTrainer.Train(corpus, vocabSize - specials.Count, minFrequency, cancellationToken);
        var n = result.TokenBytes.Count + specials.Count;
        var bytes = new byte[]?[n];
        var strings = new string[n];
        for (var id = 0; id < result.TokenBytes.Count; id++)
        {
            bytes[id] = result.TokenBytes[id];
            strings[id] = ByteLevelAlphabet.ToUnicode(bytes[id]);
        }
        var specialIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < specials.Count; i++)
        {
            strings[result.TokenBytes.Count + i] = specials[i];
            specialIds[specials[i]] = result.TokenBytes.Count + i;
        }
        return new ByteBpeTokenizer(bytes, strings, result.Merges, specialIds,
            SpecialTokens.BeginOfText, SpecialTokens.EndOfText, SpecialTokens.Pad);
    }

    public TokenizerConfig Config { get; }

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 1);
        EncodeSegment(text, ids);
        return ids.ToArray();
    }

    public int[] EncodeWithSpecials(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 1);
        foreach (var (segment, id) in _added.Split(text))
        {
            if (id is { } added) ids.Add(added);
            else EncodeSegment(segment, ids);
        }
        return ids.ToArray();
    }

    private void EncodeSegment(string text, List<int> ids)
    {
        if (_nfc) text = text.Normalize(NormalizationForm.FormC);
        foreach (var piece in _preTokenizer.Split(text))
            ids.AddRange(EncodePiece(piece));
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder();
        var pending = new List<byte>();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_tokenStrings.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} is outside the vocabulary [0, {_tokenStrings.Length})");
            if (_tokenBytes[id] is { } b) { pending.AddRange(b); continue; }
            // Bytes are decoded as one run, so a character split across tokens comes back whole.
            text.Append(Encoding.UTF8.GetString(pending.ToArray()));
            pending.Clear();
            text.Append(_tokenStrings[id]);
        }
        text.Append(Encoding.UTF8.GetString(pending.ToArray()));
        return text.ToString();
    }

    public int? TokenToId(string special) => _specials.TryGetValue(special, out var id) ? id : null;

    public bool IsSpecial(int id) => (uint)id < (uint)_tokenBytes.Length && _tokenBytes[id] is null;

    /// <summary>The vocab string of an id (byte-level alphabet, or the special's literal), for debugging and tests.</summary>
    public string IdToToken(int id) => _tokenStrings[id];

    private int[] EncodePiece(string piece)
    {
        if (_cache.TryGetValue(piece, out var cached)) return cached;
        var bytes = Encoding.UTF8.GetBytes(piece);
        // Llama 3 sets ignore_merges: a piece that is itself a vocab entry is taken whole, whatever the merges say.
        if (_ignoreMerges && _byteTokens.TryGetValue(ByteLevelAlphabet.ToUnicode(bytes), out var whole)) return [whole];
        var symbols = new List<int>(bytes.Length);
        foreach (var b in bytes) symbols.Add(_byteIds[b]);
        while (symbols.Count > 1)
        {
            // Apply the lowest-ranked (earliest learned) merge present, leftmost first: the order training used.
            int bestRank = int.MaxValue, bestMerged = -1, bestA = 0, bestB = 0;
            for (var i = 0; i + 1 < symbols.Count; i++)
            {
                if (_ranks.TryGetValue(BpeTrainer.Key(symbols[i], symbols[i + 1]), out var m) && m.Rank < bestRank)
                {
                    bestRank = m.Rank; bestMerged = m.Merged; bestA = symbols[i]; bestB = symbols[i + 1];
                }
            }
            if (bestMerged < 0) break;
            BpeTrainer.MergeInPlace(symbols, bestA, bestB, bestMerged);
        }
        var ids = symbols.ToArray();
        if (_cache.Count > 200_000) _cache.Clear();   // bounds memory on huge, diverse corpora
        _cache.TryAdd(piece, ids);
        return ids;
    }

    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        if (_jsonBytes is not null) AtomicFile.WriteAllBytes(Path.Combine(dir, TokenizerFile), _jsonBytes);
        else AtomicFile.Write(Path.Combine(dir, TokenizerFile), WriteTokenizerJson);
        if (_configBytes is not null) AtomicFile.WriteAllBytes(Path.Combine(dir, ConfigFile), _configBytes);
        else AtomicFile.Write(Path.Combine(dir, ConfigFile), WriteConfigJson);
    }

    private void WriteTokenizerJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var (content, id) in _specials.OrderBy(kv => kv.Value))
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", content);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        w.WritePropertyName("pre_tokenizer");
        if (_preTokenizerJson is not null) w.WriteRawValue(_preTokenizerJson);
        else WritePostTrainPreTokenizer(w);
        w.WriteNull("post_processor");
        WriteByteLevel(w, "decoder");
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", _ignoreMerges);
        w.WriteStartObject("vocab");
        for (var id = 0; id < _tokenStrings.Length; id++)
            if (_tokenBytes[id] is not null) w.WriteNumber(_tokenStrings[id], id);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (a, b, _) in _merges)
        {
            w.WriteStartArray();
            w.WriteStringValue(_tokenStrings[a]);
            w.WriteStringValue(_tokenStrings[b]);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WritePostTrainPreTokenizer(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", PreTokenizer.DigitPattern);
        w.WriteEndObject();
        w.WriteString("behavior", "Isolated");
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
        WriteByteLevel(w, null);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string? property)
    {
        if (property is null) w.WriteStartObject(); else w.WriteStartObject(property);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    private void WriteConfigJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        w.WriteString("bos_token", _bosToken);
        w.WriteString("eos_token", _eosToken);
        w.WriteString("pad_token", _padToken);
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        // HF truncates to this by default; the real limit is the model's max_position_embeddings, so keep it out of the way.
        w.WriteNumber("model_max_length", 131072);
        w.WriteString("chat_template", ChatTemplate.JinjaTemplate);
        w.WriteStartObject("added_tokens_decoder");
        foreach (var (content, id) in _specials.OrderBy(kv => kv.Value))
        {
            w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("content", content);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Reads <c>tokenizer.json</c> (and <c>tokenizer_config.json</c> if present): PostTrain's own, or a byte-level
    /// BPE whose pre-tokenizer is reproduced exactly (see <see cref="PreTokenizer.FromJson"/>).</summary>
    /// <exception cref="InvalidDataException">Any other layout, or an inconsistent file; the message names file, field and reason.</exception>
    public static ByteBpeTokenizer Load(string dir)
    {
        var path = Path.Combine(dir, TokenizerFile);
        using (var doc = HfBpeJson.Parse(path, out var jsonBytes))
        {
            var root = doc.RootElement;
            string Fail(string field, string reason) => throw new InvalidDataException($"{path}: {field}: {reason}");
            if (root.ValueKind != JsonValueKind.Object) Fail("$", $"expected an object, found {root.ValueKind}");
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object) Fail("model", "missing or not an object");
            var type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type != "BPE") Fail("model.type", $"expected \"BPE\", found {(type is null ? "nothing" : $"\"{type}\"")}");
            var nfc = false;
            if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind != JsonValueKind.Null)
            {
                // Qwen2 normalizes to NFC before its byte-level split; nothing else is reproduced here.
                if (Str(normalizer, "type") != "NFC") Fail("normalizer", $"expected null or NFC, found {normalizer.GetRawText()}");
                nfc = true;
            }
            if (!root.TryGetProperty("pre_tokenizer", out var preEl) || preEl.ValueKind != JsonValueKind.Object)
                Fail("pre_tokenizer", "missing or not an object");
            var preTokenizer = PreTokenizer.FromJson(preEl, out var preReason);
            if (preTokenizer is null) Fail("pre_tokenizer", $"{preReason}; found {preEl.GetRawText()}");
            foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            {
                if (!model.TryGetProperty(affix, out var a) || a.ValueKind == JsonValueKind.Null) continue;
                if (a.ValueKind != JsonValueKind.String || a.GetString()!.Length > 0)
                    Fail($"model.{affix}", $"expected null, found {a.GetRawText()}");
            }
            var ignoreMerges = model.TryGetProperty("ignore_merges", out var ignoreEl) && ignoreEl.ValueKind == JsonValueKind.True;

            var vocab = HfBpeJson.ReadVocab(model, path);

            var added = AddedTokens.FromJson(root, path);
            var specials = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var tok in added.All) specials[tok.Content] = tok.Id;

            var size = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max(), specials.Count == 0 ? 0 : specials.Values.Max()) + 1;
            if (size > vocab.Count + specials.Count)
                Fail("model.vocab", $"ids must be contiguous from 0: the largest id is {size - 1} but there are only {vocab.Count} vocab entries and {specials.Count} added tokens");
            var bytes = new byte[]?[size];
            var strings = new string[size];
            foreach (var (s, id) in vocab)
            {
                if (strings[id] is not null) Fail("model.vocab", $"id {id} is used by both \"{strings[id]}\" and \"{s}\"");
                var tokenBytes = ByteLevelAlphabet.ToBytes(s);
                if (tokenBytes is null) Fail($"model.vocab[\"{s}\"]", "contains a character outside the GPT-2 byte-level alphabet");
                bytes[id] = tokenBytes!;
                strings[id] = s;
            }
            foreach (var tok in added.All)
            {
                var (s, id) = (tok.Content, tok.Id);
                if (strings[id] is not null && vocab.GetValueOrDefault(s, -1) != id) Fail("added_tokens", $"id {id} of \"{s}\" is already \"{strings[id]}\"");
                if (vocab.ContainsKey(s)) continue;
                strings[id] = s;
                // A non-special added token (Qwen's <tool_call>) decodes as its text, like any other content.
                if (!tok.Special) bytes[id] = Encoding.UTF8.GetBytes(s);
            }
            for (var id = 0; id < size; id++)
                if (strings[id] is null) Fail("model.vocab", $"ids must be contiguous from 0 to {size - 1}; id {id} is missing");
            for (var b = 0; b < 256; b++)
                if (!vocab.ContainsKey(ByteLevelAlphabet.ToUnicode([(byte)b])))
                    Fail("model.vocab", $"byte 0x{b:X2} has no token; byte fallback needs all 256");

            var merges = HfBpeJson.ReadMerges(model, vocab, path);

            var configPath = Path.Combine(dir, ConfigFile);
            var configBytes = File.Exists(configPath) ? File.ReadAllBytes(configPath) : null;
            var tokenizerConfig = TokenizerConfig.Load(dir);
            // GPT-2 and Qwen2 have no bos: a document then starts with eos (<|endoftext|>), as their pretraining did.
            var eos = tokenizerConfig.SpecialTokens.GetValueOrDefault("eos_token") ?? SpecialTokens.EndOfText;
            var bos = tokenizerConfig.SpecialTokens.GetValueOrDefault("bos_token")
                ?? (specials.ContainsKey(SpecialTokens.BeginOfText) ? SpecialTokens.BeginOfText
                    : specials.ContainsKey("<|endoftext|>") ? "<|endoftext|>" : eos);
            var pad = tokenizerConfig.SpecialTokens.GetValueOrDefault("pad_token");
            // Llama 3 ships no pad token; padded positions are masked, so any special serves (HF recipes use eos).
            pad ??= specials.ContainsKey(SpecialTokens.Pad) ? SpecialTokens.Pad
                : specials.ContainsKey("<|finetune_right_pad_id|>") ? "<|finetune_right_pad_id|>"
                : eos;
            foreach (var (field, token) in new[] { ("bos_token", bos), ("eos_token", eos), ("pad_token", pad) })
                if (!specials.ContainsKey(token))
                    throw new InvalidDataException($"{path}: added_tokens: {field} \"{token}\" is not an added special token (have: {string.Join(", ", specials.Keys)})");

            var foreign = preTokenizer!.IsPostTrainLayout ? null : preEl.GetRawText();
            // A PostTrain file's config is regenerated on save (it is derived state); a foreign one is kept byte for byte.
            return new ByteBpeTokenizer(bytes, strings, merges, specials, bos, eos, pad, preTokenizer, foreign, ignoreMerges,
                foreign is null ? null : configBytes, added, nfc, foreign is null ? null : tokenizerConfig)
            { _jsonBytes = foreign is null ? null : jsonBytes };
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
