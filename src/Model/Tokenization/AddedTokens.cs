using System.Text.Json;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// The <c>added_tokens</c> of a tokenizer.json, matched inside text as Hugging Face's AddedVocabulary does: at the
/// leftmost position where any token matches, the longest one wins; <c>single_word</c> tokens match only between
/// non-word characters; <c>lstrip</c>/<c>rstrip</c> swallow the whitespace on their side. The text between matches
/// is returned for the model to encode. All tokens are matched on the raw text (every published Llama, Mistral,
/// Qwen and GPT-2 file has normalized=false, or no normalizer that would change a token's spelling).
/// </summary>
internal sealed class AddedTokens
{
    /// <summary>One added token and its matching flags, as in tokenizer.json.</summary>
    public sealed record Token(string Content, int Id, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false);

    private readonly Dictionary<char, Token[]> _byFirstChar;

    public AddedTokens(IEnumerable<Token> tokens)
    {
        All = tokens.Where(t => t.Content.Length > 0).ToArray();
        // Longest first, so the first match at a position is the longest one.
        _byFirstChar = All.GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public static AddedTokens Empty { get; } = new([]);

    public IReadOnlyList<Token> All { get; }

    /// <summary>Segments in order: text to encode (Id null) or a matched token (Text its content).</summary>
    public List<(string Text, int? Id)> Split(string text)
    {
        var result = new List<(string, int?)>();
        if (All.Count == 0) { if (text.Length > 0) result.Add((text, null)); return result; }
        var segmentStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            var match = MatchAt(text, i);
            if (match is null) { i++; continue; }
            int start = i, end = i + match.Content.Length;
            if (match.LStrip) while (start > segmentStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (match.RStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > segmentStart) result.Add((text[segmentStart..start], null));
            result.Add((match.Content, match.Id));
            segmentStart = i = end;
        }
        if (segmentStart < text.Length) result.Add((text[segmentStart..], null));
        return result;
    }

    private Token? MatchAt(string text, int i)
    {
        if (!_byFirstChar.TryGetValue(text[i], out var candidates)) return null;
        foreach (var t in candidates)
        {
            if (string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) != 0) continue;
            if (t.SingleWord && (IsWordChar(text, i - 1) || IsWordChar(text, i + t.Content.Length))) continue;
            return t;
        }
        return null;
    }

    private static bool IsWordChar(string text, int i) =>
        i >= 0 && i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_');

    /// <summary>Reads tokenizer.json's <c>added_tokens</c> array; a malformed entry fails with its index.</summary>
    public static AddedTokens FromJson(JsonElement root, string path)
    {
        var tokens = new List<Token>();
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null) return new AddedTokens(tokens);
        if (added.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: added_tokens: expected an array, found {added.ValueKind}");
        var i = 0;
        foreach (var tok in added.EnumerateArray())
        {
            if (tok.ValueKind != JsonValueKind.Object || !tok.TryGetProperty("id", out var idEl) || !idEl.TryGetInt32(out var id) || id < 0 ||
                !tok.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: added_tokens[{i}]: expected {{\"id\": non-negative int, \"content\": string, ...}}, found {tok.GetRawText()}");
            tokens.Add(new Token(c.GetString()!, id, Flag(tok, "special"), Flag(tok, "lstrip"), Flag(tok, "rstrip"), Flag(tok, "single_word")));
            i++;
        }
        return new AddedTokens(tokens);
    }

    private static bool Flag(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
