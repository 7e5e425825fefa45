using System.Text.Json;
using System.Text.RegularExpressions;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// Splits text into the pieces BPE merges within, exactly as the tokenizer.json's pre_tokenizer tells Hugging Face
/// to. PostTrain's own layout isolates every ASCII digit (so arithmetic never sees multi-digit tokens and no merge
/// can touch a digit) and then applies GPT-2's ByteLevel regex. Loaded files may instead carry GPT-2's plain
/// ByteLevel or Llama 3's Split-regex + ByteLevel(use_regex=false); training and encoding share one instance, so
/// merges never cross a boundary that encoding will cut.
/// </summary>
internal sealed partial class PreTokenizer
{
    /// <summary>The Split step's pattern in PostTrain's own tokenizer.json.</summary>
    public const string DigitPattern = "[0-9]";

    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Gpt2Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2();

    private readonly Regex? _isolate;          // a Split(Isolated) step; null = none
    private readonly bool _asciiDigits;        // PostTrain's Split("[0-9]") done without a regex
    private readonly bool _byteLevelRegex;

    private PreTokenizer(Regex? isolate, bool asciiDigits, bool byteLevelRegex)
    {
        _isolate = isolate;
        _asciiDigits = asciiDigits;
        _byteLevelRegex = byteLevelRegex;
    }

    public static PreTokenizer PostTrain { get; } = new(null, asciiDigits: true, byteLevelRegex: true);

    public bool IsPostTrainLayout => _asciiDigits && _byteLevelRegex;

    /// <summary>Pieces in order; their concatenation is exactly <paramref name="text"/>.</summary>
    public IEnumerable<string> Split(string text)
    {
        foreach (var piece in Isolate(text))
        {
            if (!_byteLevelRegex) { yield return piece; continue; }
            foreach (Match m in Gpt2().Matches(piece)) yield return m.Value;
        }
    }

    private IEnumerable<string> Isolate(string text)
    {
        if (_asciiDigits)
        {
            var start = 0;
            for (var i = 0; i <= text.Length; i++)
            {
                if (i < text.Length && !char.IsAsciiDigit(text[i])) continue;
                if (i > start) yield return text.Substring(start, i - start);
                if (i < text.Length) yield return text[i].ToString();
                start = i + 1;
            }
        }
        else if (_isolate is not null)
        {
            var pos = 0;
            foreach (Match m in _isolate.Matches(text))
            {
                if (m.Length == 0) continue;
                if (m.Index > pos) yield return text.Substring(pos, m.Index - pos);
                yield return m.Value;
                pos = m.Index + m.Length;
            }
            if (pos < text.Length) yield return text[pos..];
        }
        else if (text.Length > 0)
        {
            yield return text;
        }
    }

    /// <summary>
    /// Reads the layouts this class can reproduce exactly: [Split(Regex, Isolated)] then ByteLevel(add_prefix_space=false).
    /// Returns null with a reason for anything else (Metaspace, Digits, prefix spaces...), since a near match would
    /// silently produce ids the model was never trained on.
    /// </summary>
    public static PreTokenizer? FromJson(JsonElement pre, out string? reason)
    {
        reason = null;
        var steps = Str(pre, "type") == "Sequence" && pre.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().ToList()
            : [pre];
        if (steps.Count is < 1 or > 2 || Str(steps[^1], "type") != "ByteLevel")
        {
            reason = "expected ByteLevel, optionally after one Split(Regex, Isolated)";
            return null;
        }
        var byteLevel = steps[^1];
        if (byteLevel.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
        {
            reason = "ByteLevel.add_prefix_space=true is not supported";
            return null;
        }
        var useRegex = !byteLevel.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False;
        if (steps.Count == 1) return new PreTokenizer(null, false, useRegex);

        var split = steps[0];
        var pattern = split.TryGetProperty("pattern", out var pat) ? Str(pat, "Regex") : null;
        if (Str(split, "type") != "Split" || pattern is null || Str(split, "behavior") != "Isolated" ||
            (split.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True))
        {
            reason = "the first step must be Split with a {\"Regex\": ...} pattern, behavior Isolated, invert false";
            return null;
        }
        if (pattern == DigitPattern) return new PreTokenizer(null, true, useRegex);
        try
        {
            return new PreTokenizer(new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled), false, useRegex);
        }
        catch (ArgumentException e)
        {
            reason = $"Split pattern does not compile as a .NET regex: {e.Message}";
            return null;
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
