using PostTrain.Model.Tokenization.Jinja;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// A checkpoint's own Jinja chat template turned into what the trainers need. The rendered text is encoded whole,
/// specials recognised, exactly as <c>tokenizer.apply_chat_template(..., tokenize=True)</c> does. The formatting mask
/// is derived by locating each message's content (as the template placed it, perhaps trimmed) among the ids: every
/// token outside a content span is formatting, and a token straddling template text and content counts as content.
/// The stop ids are the first special token the template writes after an assistant turn, then eos.
/// </summary>
internal sealed class CheckpointChatFormat
{
    private const string ProbeResponse = "PostTrain probe response 7d1e";
    private readonly ITokenizer _tokenizer;
    private readonly JinjaTemplate _template;

    public CheckpointChatFormat(ITokenizer tokenizer, JinjaTemplate template)
    {
        _tokenizer = tokenizer;
        _template = template;
        StopIds = DeriveStopIds();
    }

    /// <summary>End of an assistant turn as the template writes it (e.g. &lt;/s&gt;, &lt;|im_end|&gt;, &lt;|eot_id|&gt;), then eos.</summary>
    public IReadOnlyList<int> StopIds { get; }

    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var list = messages.Select(m => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = m.Role ?? throw new ArgumentException("a message has no role", nameof(messages)),
            ["content"] = m.Content ?? throw new ArgumentException($"message with role {m.Role} has null content", nameof(messages)),
        }).ToList();
        return _template.Render(_tokenizer.Config.TemplateVariables(list, addGenerationPrompt));
    }

    public ChatEncoding EncodePrompt(IReadOnlyList<ChatMessage> messages)
    {
        var text = Render(messages, addGenerationPrompt: true);
        var ids = _tokenizer.EncodeWithSpecials(text);
        return new ChatEncoding(ids, FormattingMask(ids, messages.Select(m => m.Content)), ids.Length);
    }

    /// <summary>
    /// Prompt (with the generation prompt) then response and whatever the template writes after it. When the whole
    /// conversation's ids start with the prompt's ids, they are used as they are; otherwise (a merge across the
    /// boundary) the remainder is encoded on its own after the prompt's ids, so the prompt stays a prefix.
    /// </summary>
    public ChatEncoding EncodeExample(IReadOnlyList<ChatMessage> prompt, string response)
    {
        var promptText = Render(prompt, addGenerationPrompt: true);
        var fullText = Render([.. prompt, ChatMessage.Assistant(response)], addGenerationPrompt: false);
        if (!fullText.StartsWith(promptText, StringComparison.Ordinal))
            throw new InvalidDataException($"{_template.Source}: the conversation with its response does not start with the prompt rendered with add_generation_prompt, so a response cannot be appended to a sampled prompt; use a template whose generation prompt is the start of the assistant turn");
        var promptIds = _tokenizer.EncodeWithSpecials(promptText);
        var fullIds = _tokenizer.EncodeWithSpecials(fullText);
        int[] ids = fullIds.AsSpan().StartsWith(promptIds) ? fullIds
            : [.. promptIds, .. _tokenizer.EncodeWithSpecials(fullText[promptText.Length..])];
        var promptMask = FormattingMask(promptIds, prompt.Select(m => m.Content));
        var tail = ids[promptIds.Length..];
        var tailMask = FormattingMask(tail, [response]);
        // A response the search cannot place (its ids all change in context) is still learned: only specials are masked.
        if (response.Trim().Length > 0 && tailMask.All(f => f))
            for (var i = 0; i < tail.Length; i++) tailMask[i] = _tokenizer.IsSpecial(tail[i]);
        return new ChatEncoding(ids, [.. promptMask, .. tailMask], promptIds.Length);
    }

    /// <summary>Per id: true unless it lies in (or straddles into) one of <paramref name="contents"/>, searched in order.</summary>
    private bool[] FormattingMask(int[] ids, IEnumerable<string> contents)
    {
        var formatting = Enumerable.Repeat(true, ids.Length).ToArray();
        var cursor = 0;
        foreach (var content in contents)
        {
            var span = Locate(ids, content, cursor) ?? Locate(ids, content.Trim(), cursor);
            if (span is not { } s) continue;
            for (var i = s.Start; i < s.End; i++) formatting[i] = false;
            cursor = s.End;
        }
        return formatting;
    }

    /// <summary>
    /// Where content's ids sit in <paramref name="ids"/> at or after <paramref name="from"/>. The first and last ids
    /// of content encoded alone may differ in context (a leading space merged, a "▁" prefix), so when the whole
    /// sequence is not found its interior is searched and the tokens on either side are taken as content too.
    /// </summary>
    private (int Start, int End)? Locate(int[] ids, string content, int from)
    {
        if (content.Length == 0) return null;
        var own = _tokenizer.EncodeWithSpecials(content);
        if (own.Length == 0) return null;
        if (IndexOf(ids, own, from) is var at and >= 0) return (at, at + own.Length);
        for (var trim = 1; trim <= 2 && own.Length - 2 * trim >= 1; trim++)
        {
            var core = own[trim..^trim];
            if (IndexOf(ids, core, from) is var c and >= 0)
                return (Math.Max(from, c - trim), Math.Min(ids.Length, c + core.Length + trim));
        }
        return null;
    }

    private static int IndexOf(int[] haystack, int[] needle, int from)
    {
        for (var i = from; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }

    private List<int> DeriveStopIds()
    {
        var stops = new List<int>();
        try
        {
            var text = Render([ChatMessage.User("Hi"), ChatMessage.Assistant(ProbeResponse)], addGenerationPrompt: false);
            var at = text.LastIndexOf(ProbeResponse, StringComparison.Ordinal);
            if (at >= 0)
                foreach (var id in _tokenizer.EncodeWithSpecials(text[(at + ProbeResponse.Length)..]))
                    if (_tokenizer.IsSpecial(id)) { stops.Add(id); break; }
        }
        catch (JinjaException)
        {
            // A template that rejects the probe (e.g. it demands a system message) still stops at eos.
        }
        if (_tokenizer.EosId >= 0 && !stops.Contains(_tokenizer.EosId)) stops.Add(_tokenizer.EosId);
        return stops;
    }
}
