using System.Globalization;
using System.Text.Json;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>
/// Imports preference JSONL in the hub's common layouts (see <see cref="PreferenceFormat"/>) into
/// <see cref="PreferencePair"/>s. The whole file is rejected if any line is bad, and every bad line is reported:
/// a partly imported dataset would silently skew DPO toward whatever happened to parse.
/// </summary>
public sealed class PreferenceImporter
{
    private const string HumanMarker = "\n\nHuman:";
    private const string AssistantMarker = "\n\nAssistant:";

    private readonly PreferenceImportOptions _options;
    private readonly RawPreferenceLineValidator _rawValidator = new();
    private readonly PreferencePairValidator _pairValidator;

    public PreferenceImporter(PreferenceImportOptions? options = null)
    {
        _options = options ?? new PreferenceImportOptions();
        if (_options.MaxTokens < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.MaxTokens, "MaxTokens must be at least 1");
        _pairValidator = new PreferencePairValidator(_options);
    }

    /// <summary>Imports or throws.</summary>
    /// <exception cref="PreferenceImportException">Lists every bad line as FILE:LINE: field: reason.</exception>
    public IReadOnlyList<PreferencePair> Import(string path)
    {
        var result = TryImport(path);
        return result.Succeeded ? result.Pairs! : throw new PreferenceImportException(path, result.Errors);
    }

    /// <summary>Pairs and no errors, or errors and no pairs.</summary>
    public PreferenceImportResult TryImport(string path)
    {
        if (!File.Exists(path)) return Fail(path, [new ImportError(path, 0, "file", "does not exist")]);
        var errors = new List<ImportError>();
        var pairs = new List<PreferencePair>();
        var fileFormat = Scan(path, pairs.Add, errors.Add);
        if (errors.Count == 0 && pairs.Count == 0) errors.Add(NoPairs(path));
        return errors.Count > 0 ? Fail(path, errors) : new PreferenceImportResult(pairs, fileFormat, []);
    }

    /// <summary>
    /// Checks a file without keeping its pairs (memory bounded by one line, whatever the file's size): the number of
    /// good pairs, the first <paramref name="maxErrors"/> errors and the count of all of them.
    /// </summary>
    public (int Pairs, IReadOnlyList<ImportError> Errors, int ErrorCount) Check(string path, int maxErrors)
    {
        if (!File.Exists(path)) return (0, [new ImportError(path, 0, "file", "does not exist")], 1);
        var first = new List<ImportError>();
        int pairs = 0, count = 0;
        Scan(path, _ => pairs++, e => { if (count++ < maxErrors) first.Add(e); });
        if (count == 0 && pairs == 0) { first.Add(NoPairs(path)); count = 1; }
        return (pairs, first, count);
    }

    private static ImportError NoPairs(string path) => new(path, 1, "file", "no preference pairs; expected at least one JSON line");

    /// <summary>One streaming pass: each good pair goes to <paramref name="keep"/>, each problem to <paramref name="error"/>; returns the file's format.</summary>
    private PreferenceFormat? Scan(string path, Action<PreferencePair> keep, Action<ImportError> error)
    {
        PreferenceFormat? fileFormat = null;
        var fileFormatLine = 0;
        foreach (var (line, text, lineError) in JsonlLines.Read(path))
        {
            if (lineError is not null) { error(lineError); continue; }
            using var doc = JsonDocument.Parse(text!);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error(new ImportError(path, line, "$", $"expected a JSON object, found {RawPreferenceLineValidator.Describe(root)}"));
                continue;
            }
            var raw = Detect(root, out var unknown);
            if (raw is null) { error(new ImportError(path, line, "format", unknown!)); continue; }

            // Mixing explicit and implicit prompts in one file almost always means two datasets were concatenated by mistake.
            var family = raw.Format == PreferenceFormat.ImplicitPrompt ? PreferenceFormat.ImplicitPrompt : PreferenceFormat.ExplicitPrompt;
            if (fileFormat is null) { fileFormat = raw.Format; fileFormatLine = line; }
            else if ((fileFormat == PreferenceFormat.ImplicitPrompt) != (family == PreferenceFormat.ImplicitPrompt))
            {
                error(new ImportError(path, line, "format", $"line is {raw.Format} but line {fileFormatLine} set the file's format to {fileFormat}"));
                continue;
            }

            var shape = _rawValidator.Validate(raw);
            if (!shape.IsValid)
            {
                foreach (var e in shape.Errors) error(new ImportError(path, line, e.PropertyName, e.ErrorMessage));
                continue;
            }

            var pair = Convert(raw, out var convertError);
            if (pair is null) { error(new ImportError(path, line, convertError!.Value.Field, convertError.Value.Reason)); continue; }
            var content = _pairValidator.Validate(pair);
            if (!content.IsValid)
            {
                foreach (var e in content.Errors) error(new ImportError(path, line, e.PropertyName, e.ErrorMessage));
                continue;
            }
            if (_options.AddProvenance)
            {
                var source = pair.Source is null ? new Dictionary<string, string>() : new Dictionary<string, string>(pair.Source);
                source["file"] = Path.GetFileName(path);
                source["line"] = line.ToString(CultureInfo.InvariantCulture);
                source["format"] = raw.Format.ToString();
                pair = pair with { Source = source };
            }
            keep(pair);
        }
        return fileFormat;
    }

    private static PreferenceImportResult Fail(string path, IReadOnlyList<ImportError> errors) => new(null, null, errors);

    private static RawPreferenceLine? Detect(JsonElement root, out string? unknown)
    {
        unknown = null;
        JsonElement? Get(string name) => root.TryGetProperty(name, out var v) ? v : null;
        var prompt = Get("prompt");
        var chosen = Get("chosen");
        var rejected = Get("rejected");
        if (chosen is null || rejected is null)
        {
            var found = string.Join(", ", root.EnumerateObject().Select(p => p.Name));
            unknown = $"unknown preference format: found fields {{{found}}}; expected {{prompt, chosen, rejected}} (explicit prompt; " +
                      "UltraFeedback adds score_chosen, score_rejected) or {chosen, rejected} (implicit prompt, HH-RLHF)";
            return null;
        }
        var scoreChosen = Get("score_chosen");
        var scoreRejected = Get("score_rejected");
        var format = prompt is null ? PreferenceFormat.ImplicitPrompt
            : scoreChosen is not null || scoreRejected is not null ? PreferenceFormat.UltraFeedback
            : PreferenceFormat.ExplicitPrompt;
        return new RawPreferenceLine(format, prompt, chosen.Value, rejected.Value, Get("edited"), scoreChosen, scoreRejected, Get("margin"), Get("source"));
    }

    private static PreferencePair? Convert(RawPreferenceLine raw, out (string Field, string Reason)? error)
    {
        error = null;
        IReadOnlyList<ChatMessage> prompt;
        string chosen, rejected;
        if (raw.Prompt is { } p)
        {
            prompt = p.ValueKind == JsonValueKind.String ? [ChatMessage.User(p.GetString()!)] : Messages(p);
            var c = Response(raw.Chosen, prompt, "chosen", ref error);
            var r = Response(raw.Rejected, prompt, "rejected", ref error);
            if (c is null || r is null) return null;
            (chosen, rejected) = (c, r);
        }
        else if (raw.Chosen.ValueKind == JsonValueKind.String && raw.Rejected.ValueKind == JsonValueKind.String)
        {
            if (!SplitText(raw.Chosen.GetString()!, raw.Rejected.GetString()!, out prompt, out chosen, out rejected, ref error)) return null;
        }
        else if (raw.Chosen.ValueKind == JsonValueKind.Array && raw.Rejected.ValueKind == JsonValueKind.Array)
        {
            if (!SplitMessages(Messages(raw.Chosen), Messages(raw.Rejected), out prompt, out chosen, out rejected, ref error)) return null;
        }
        else
        {
            error = ("rejected", $"implicit prompt needs chosen and rejected of the same type, found {raw.Chosen.ValueKind} and {raw.Rejected.ValueKind}");
            return null;
        }

        double? Num(JsonElement? e) => e is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;
        return new PreferencePair(prompt, chosen, rejected)
        {
            Edited = raw.Edited is { ValueKind: JsonValueKind.String } ed ? ed.GetString() : null,
            ScoreChosen = Num(raw.ScoreChosen),
            ScoreRejected = Num(raw.ScoreRejected),
            Margin = Num(raw.Margin),
            Source = raw.Source is { ValueKind: JsonValueKind.Object } s ? s.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetString()!) : null,
        };
    }

    private static List<ChatMessage> Messages(JsonElement array) =>
        array.EnumerateArray().Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();

    /// <summary>A response given as text, as one assistant message, or (UltraFeedback) as the prompt's messages plus one assistant message.</summary>
    private static string? Response(JsonElement e, IReadOnlyList<ChatMessage> prompt, string field, ref (string, string)? error)
    {
        if (e.ValueKind == JsonValueKind.String) return e.GetString();
        var messages = Messages(e);
        var rest = messages.Count > prompt.Count && messages.Take(prompt.Count).SequenceEqual(prompt) ? messages.Skip(prompt.Count).ToList() : messages;
        if (rest is [{ Role: ChatTemplate.AssistantRole } only]) return only.Content;
        error ??= (field, $"expected one assistant message (optionally after the prompt's {prompt.Count} message(s)), found {rest.Count} message(s) with roles [{string.Join(", ", rest.Select(m => m.Role))}]");
        return null;
    }

    /// <summary>HH-RLHF: both texts repeat the conversation; the prompt runs through the last "\n\nAssistant:" they share.</summary>
    private static bool SplitText(string a, string b, out IReadOnlyList<ChatMessage> prompt, out string chosen, out string rejected, ref (string, string)? error)
    {
        var common = 0;
        while (common < a.Length && common < b.Length && a[common] == b[common]) common++;
        var shared = a[..common];
        var cut = shared.LastIndexOf(AssistantMarker, StringComparison.Ordinal);
        int end;
        if (cut >= 0) end = cut + AssistantMarker.Length;
        else
        {
            // No dialogue markers: cut back to a whitespace boundary so a shared first word stays in both responses.
            end = common;
            while (end > 0 && !char.IsWhiteSpace(a[end - 1])) end--;
        }
        prompt = [];
        chosen = rejected = "";
        if (end == 0)
        {
            error = ("chosen", "chosen and rejected share no prefix, so the prompt cannot be inferred; use {prompt, chosen, rejected}");
            return false;
        }
        prompt = cut >= 0 ? ParseHh(a[..cut]) : [ChatMessage.User(a[..end].Trim())];
        chosen = TrimOneSpace(a[end..]);
        rejected = TrimOneSpace(b[end..]);
        return true;
    }

    private static string TrimOneSpace(string s) => s.StartsWith(' ') ? s[1..] : s;

    /// <summary>"\n\nHuman: x\n\nAssistant: y\n\nHuman: z" → user x, assistant y, user z.</summary>
    private static List<ChatMessage> ParseHh(string text)
    {
        var messages = new List<ChatMessage>();
        var pos = 0;
        string? role = null;
        var start = 0;
        while (pos <= text.Length)
        {
            var h = text.IndexOf(HumanMarker, pos, StringComparison.Ordinal);
            var a = text.IndexOf(AssistantMarker, pos, StringComparison.Ordinal);
            var next = h < 0 ? a : a < 0 ? h : Math.Min(h, a);
            var stop = next < 0 ? text.Length : next;
            if (role is not null) messages.Add(new ChatMessage(role, text[start..stop].Trim()));
            else if (stop > 0 && !string.IsNullOrWhiteSpace(text[..stop])) messages.Add(ChatMessage.User(text[..stop].Trim()));
            if (next < 0) break;
            role = next == h ? ChatTemplate.UserRole : ChatTemplate.AssistantRole;
            start = next + (next == h ? HumanMarker.Length : AssistantMarker.Length);
            pos = start;
        }
        return messages;
    }

    /// <summary>Conversational implicit prompt: the longest shared message prefix is the prompt; each side must end in one assistant turn.</summary>
    private static bool SplitMessages(List<ChatMessage> a, List<ChatMessage> b, out IReadOnlyList<ChatMessage> prompt, out string chosen, out string rejected, ref (string, string)? error)
    {
        var common = 0;
        while (common < a.Count && common < b.Count && a[common] == b[common]) common++;
        // Identical final turns would leave no response; keep the last turn as the response so the pair validator reports chosen == rejected.
        if (common == a.Count || common == b.Count) common = Math.Max(0, Math.Min(a.Count, b.Count) - 1);
        prompt = a.Take(common).ToList();
        chosen = rejected = "";
        foreach (var (field, side) in new[] { ("chosen", a), ("rejected", b) })
        {
            var rest = side.Skip(common).ToList();
            if (rest is not [{ Role: ChatTemplate.AssistantRole }])
            {
                error = (field, $"after the {common} shared message(s) expected one assistant message, found {rest.Count} with roles [{string.Join(", ", rest.Select(m => m.Role))}]");
                return false;
            }
        }
        chosen = a[^1].Content;
        rejected = b[^1].Content;
        return true;
    }
}
