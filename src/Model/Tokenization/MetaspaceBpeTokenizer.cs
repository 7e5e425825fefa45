using System.Text;
using System.Text.Json;
using PostTrain.Model.Checkpoints;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// SentencePiece-style BPE stored as a Hugging Face <c>tokenizer.json</c> (Llama 2, Mistral, TinyLlama, Zephyr):
/// spaces become "▁" (a Prepend+Replace normalizer, or a Metaspace pre-tokenizer), merges work on characters, and a
/// character outside the vocabulary falls back to its UTF-8 bytes as <c>&lt;0xNN&gt;</c> tokens. Files are written
/// back byte for byte on save.
/// </summary>
public sealed class MetaspaceBpeTokenizer : ITokenizer
{
    private const char Space = '▁';

    private readonly string[] _tokens;               // id -> vocab string or added-token content
    private readonly Dictionary<string, int> _vocab;
    private readonly int[] _byteIds = new int[256];  // <0xNN> ids; -1 when absent
    private readonly Dictionary<int, byte> _byteOf = [];
    private readonly BpeMerger _merger;
    private readonly AddedTokens _added;
    private readonly HashSet<int> _specialIds;
    private readonly HashSet<int> _addedIds;
    private readonly int? _unkId;
    private readonly bool _byteFallback, _fuseUnk, _ignoreMerges;
    private readonly Layout _layout;
    private readonly byte[] _jsonBytes;
    private readonly byte[]? _configBytes;

    /// <summary>How "▁" gets into the text: the legacy normalizer prepends to every segment; Metaspace by scheme.</summary>
    private sealed record Layout(bool NormalizerPrepend, bool NormalizerReplace, string Prepend, string? Scheme, bool Split, NormalizationForm? Form);

    private MetaspaceBpeTokenizer(string[] tokens, Dictionary<string, int> vocab, List<(int, int, int)> merges, AddedTokens added,
        int? unkId, bool byteFallback, bool fuseUnk, bool ignoreMerges, Layout layout, TokenizerConfig config, byte[] jsonBytes, byte[]? configBytes)
    {
        _tokens = tokens; _vocab = vocab; _added = added; _unkId = unkId;
        _byteFallback = byteFallback; _fuseUnk = fuseUnk; _ignoreMerges = ignoreMerges; _layout = layout;
        _jsonBytes = jsonBytes; _configBytes = configBytes;
        _merger = new BpeMerger(merges);
        Config = config;
        _specialIds = [.. added.All.Where(t => t.Special).Select(t => t.Id)];
        _addedIds = [.. added.All.Select(t => t.Id)];
        for (var b = 0; b < 256; b++)
        {
            _byteIds[b] = vocab.GetValueOrDefault($"<0x{b:X2}>", -1);
            if (_byteIds[b] >= 0 && !_addedIds.Contains(_byteIds[b])) _byteOf[_byteIds[b]] = (byte)b;
        }
        int Find(string field, string fallback)
        {
            var name = config.SpecialTokens.GetValueOrDefault(field) ?? fallback;
            return TokenToId(name) ?? -1;
        }
        BosId = Find("bos_token", "<s>");
        EosId = Find("eos_token", "</s>");
        // Llama 2 has no pad token; padded positions are masked, so eos is the conventional stand-in.
        var pad = Find("pad_token", "<pad>");
        PadId = pad >= 0 ? pad : EosId;
    }

    public int VocabSize => _tokens.Length;
    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }
    public TokenizerConfig Config { get; }

    /// <summary>True when a tokenizer.json uses this layout (a "▁" normalizer or Metaspace pre-tokenizer); the loader picks by this.</summary>
    internal static bool Matches(JsonElement root)
    {
        var text = (root.TryGetProperty("normalizer", out var n) ? n.GetRawText() : "") + (root.TryGetProperty("pre_tokenizer", out var p) ? p.GetRawText() : "");
        return text.Contains("\"Metaspace\"", StringComparison.Ordinal) || text.Contains("\"Prepend\"", StringComparison.Ordinal);
    }

    /// <summary>Reads DIR/tokenizer.json (and tokenizer_config.json when present).</summary>
    /// <exception cref="InvalidDataException">Anything this class cannot reproduce exactly; the message names file, field and reason.</exception>
    public static MetaspaceBpeTokenizer Load(string dir)
    {
        var path = Path.Combine(dir, ByteBpeTokenizer.TokenizerFile);
        using (var doc = HfBpeJson.Parse(path, out var jsonBytes))
        {
            var root = doc.RootElement;
            string Fail(string field, string reason) => throw new InvalidDataException($"{path}: {field}: {reason}");
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object) Fail("model", "missing or not an object");
            if (Str(model, "type") is { } type && type != "BPE") Fail("model.type", $"expected \"BPE\", found \"{type}\"");
            foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
                if (Str(model, affix) is { Length: > 0 } a) Fail($"model.{affix}", $"expected null, found \"{a}\"");
            var layout = ReadLayout(root, Fail);

            var vocab = HfBpeJson.ReadVocab(model, path);
            var added = AddedTokens.FromJson(root, path);
            var size = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max(), added.All.Count == 0 ? 0 : added.All.Max(t => t.Id)) + 1;
            var tokens = new string[size];
            foreach (var (s, id) in vocab) tokens[id] = s;
            foreach (var t in added.All)
            {
                if (tokens[t.Id] is { } existing && existing != t.Content) Fail("added_tokens", $"id {t.Id} of \"{t.Content}\" is already \"{existing}\"");
                tokens[t.Id] = t.Content;
            }
            for (var id = 0; id < size; id++)
                if (tokens[id] is null) Fail("model.vocab", $"ids must be contiguous from 0 to {size - 1}; id {id} is missing");

            var merges = HfBpeJson.ReadMerges(model, vocab, path);
            int? unkId = null;
            if (Str(model, "unk_token") is { } unk)
            {
                if (!vocab.TryGetValue(unk, out var u)) Fail("model.unk_token", $"\"{unk}\" is not in the vocab");
                unkId = u;
            }
            var configPath = Path.Combine(dir, TokenizerConfig.FileName);
            var configBytes = File.Exists(configPath) ? File.ReadAllBytes(configPath) : null;
            return new MetaspaceBpeTokenizer(tokens, vocab, merges, added, unkId,
                Flag(model, "byte_fallback"), Flag(model, "fuse_unk"), Flag(model, "ignore_merges"), layout,
                TokenizerConfig.Load(dir), jsonBytes, configBytes);
        }
    }

    private static Layout ReadLayout(JsonElement root, Func<string, string, string> fail)
    {
        bool prepend = false, replace = false;
        var prependText = "";
        NormalizationForm? form = null;
        if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind != JsonValueKind.Null)
        {
            var steps = Str(norm, "type") == "Sequence" && norm.TryGetProperty("normalizers", out var list) ? list.EnumerateArray().ToList() : [norm];
            foreach (var step in steps)
            {
                switch (Str(step, "type"))
                {
                    case "Prepend": prepend = true; prependText = Str(step, "prepend") ?? Space.ToString(); break;
                    case "Replace" when step.TryGetProperty("pattern", out var pat) && Str(pat, "String") == " " && Str(step, "content") == Space.ToString():
                        replace = true; break;
                    case "NFC": form = NormalizationForm.FormC; break;
                    case "NFKC": form = NormalizationForm.FormKC; break;
                    default: fail("normalizer", $"only Prepend, Replace(\" \" -> \"▁\"), NFC and NFKC are supported; found {step.GetRawText()}"); break;
                }
            }
        }
        string? scheme = null;
        var split = false;
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind != JsonValueKind.Null)
        {
            if (Str(pre, "type") != "Metaspace") fail("pre_tokenizer", $"expected null or Metaspace, found {pre.GetRawText()}");
            if (Str(pre, "replacement") is { } rep && rep != Space.ToString()) fail("pre_tokenizer.replacement", $"expected \"▁\", found \"{rep}\"");
            scheme = Str(pre, "prepend_scheme")
                ?? (pre.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.False ? "never" : "always");
            if (scheme is not ("always" or "first" or "never")) fail("pre_tokenizer.prepend_scheme", $"expected always, first or never, found \"{scheme}\"");
            split = !pre.TryGetProperty("split", out var sp) || sp.ValueKind != JsonValueKind.False;
        }
        if (!replace && scheme is null) fail("normalizer", "no Replace(\" \" -> \"▁\") normalizer and no Metaspace pre-tokenizer: not a SentencePiece-style layout");
        return new Layout(prepend, replace, prependText, scheme, split, form);
    }

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        EncodeSegment(text, 0, ids);
        return [.. ids];
    }

    public int[] EncodeWithSpecials(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        var segments = _added.Split(text);
        for (var k = 0; k < segments.Count; k++)
        {
            if (segments[k].Id is { } id) ids.Add(id);
            else EncodeSegment(segments[k].Text, k, ids);
        }
        return [.. ids];
    }

    private void EncodeSegment(string text, int sectionIndex, List<int> ids)
    {
        if (text.Length == 0) return;
        if (_layout.Form is { } form) text = text.Normalize(form);
        if (_layout.NormalizerPrepend) text = _layout.Prepend + text;
        if (_layout.NormalizerReplace || _layout.Scheme is not null) text = text.Replace(' ', Space);
        if (_layout.Scheme is { } scheme && text[0] != Space && (scheme == "always" || (scheme == "first" && sectionIndex == 0)))
            text = Space + text;
        if (!_layout.Split) { EncodeWord(text, ids); return; }
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i < text.Length && text[i] != Space) continue;
            EncodeWord(text[start..i], ids);
            start = i;
        }
    }

    private void EncodeWord(string word, List<int> ids)
    {
        if (_ignoreMerges && _vocab.TryGetValue(word, out var whole)) { ids.Add(whole); return; }
        var symbols = new List<int>(word.Length);
        for (var i = 0; i < word.Length;)
        {
            var len = char.IsSurrogatePair(word, i) ? 2 : 1;
            var ch = word.Substring(i, len);
            i += len;
            if (_vocab.TryGetValue(ch, out var id)) { symbols.Add(id); continue; }
            var bytes = Encoding.UTF8.GetBytes(ch);
            if (_byteFallback && bytes.All(b => _byteIds[b] >= 0)) { foreach (var b in bytes) symbols.Add(_byteIds[b]); continue; }
            if (_unkId is not { } unk) throw new ArgumentException($"character U+{char.ConvertToUtf32(ch, 0):X4} is not in the vocabulary, which has no unk_token or byte fallback");
            if (_fuseUnk && symbols.Count > 0 && symbols[^1] == unk) continue;
            symbols.Add(unk);
        }
        ids.AddRange(_merger.Merge(symbols));
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var text = new StringBuilder();
        var pending = new List<byte>();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_tokens.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} is outside the vocabulary [0, {_tokens.Length})");
            if (_byteOf.TryGetValue(id, out var b)) { pending.Add(b); continue; }
            if (pending.Count > 0) { text.Append(Encoding.UTF8.GetString(pending.ToArray())); pending.Clear(); }
            text.Append(_addedIds.Contains(id) ? _tokens[id] : _tokens[id].Replace(Space, ' '));
        }
        if (pending.Count > 0) text.Append(Encoding.UTF8.GetString(pending.ToArray()));
        // The decoder's Strip(start=1) removes the one space the normalizer or Metaspace put in front.
        var prefixed = _layout.NormalizerPrepend || _layout.Scheme is "always" or "first";
        return prefixed && text.Length > 0 && text[0] == ' ' ? text.ToString(1, text.Length - 1) : text.ToString();
    }

    public int? TokenToId(string special) =>
        _added.All.FirstOrDefault(t => t.Content == special) is { } t ? t.Id : _vocab.TryGetValue(special, out var id) ? id : null;

    public bool IsSpecial(int id) => _specialIds.Contains(id);

    /// <summary>The vocab string of an id, for debugging and tests.</summary>
    public string IdToToken(int id) => _tokens[id];

    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllBytes(Path.Combine(dir, ByteBpeTokenizer.TokenizerFile), _jsonBytes);
        if (_configBytes is not null) AtomicFile.WriteAllBytes(Path.Combine(dir, TokenizerConfig.FileName), _configBytes);
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Flag(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
