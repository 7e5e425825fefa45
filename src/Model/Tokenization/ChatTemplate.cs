using PostTrain.Model.Tokenization.Jinja;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// A checkpoint's chat format. A tokenizer whose tokenizer_config.json carries its own <c>chat_template</c> (Llama 2,
/// Mistral, Zephyr, Qwen, an imported Llama 3) is rendered with that Jinja template, as apply_chat_template does
/// (see <see cref="CheckpointChatFormat"/>); PostTrain's own models, and tokenizers with no template, use the
/// built-in Llama 3 format below, whose outputs are fixed. Built-in: Llama 3's chat format: <c>&lt;|begin_of_text|&gt;</c>, then per message
/// <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>.
/// Prompt messages encode "\n\n" + content as one string, and the open assistant header encodes "\n\n" alone, so
/// <see cref="EncodePrompt"/> gives the same ids as Hugging Face's apply_chat_template(add_generation_prompt=True)
/// on the saved tokenizer. The response is encoded on its own after that prompt, as TRL does: a prompt's ids are
/// always a prefix of prompt + response, so what the sampler generated is exactly what SFT and DPO score.
/// </summary>
public sealed class ChatTemplate
{
    public const string SystemRole = "system";
    public const string UserRole = "user";
    public const string AssistantRole = "assistant";
    public static IReadOnlyList<string> Roles { get; } = [SystemRole, UserRole, AssistantRole];

    /// <summary>The same format in Jinja, stored in tokenizer_config.json for Hugging Face's apply_chat_template.</summary>
    public const string JinjaTemplate =
        "{{- bos_token }}{%- for message in messages %}" +
        "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}" +
        "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

    private const string HeaderNewlines = "\n\n";
    private readonly int _bos, _startHeader, _endHeader, _eot, _endOfText;
    private readonly Dictionary<string, int[]> _roleIds;
    private readonly int[] _newlineIds;

    private readonly CheckpointChatFormat? _checkpoint;

    /// <param name="tokenizer">The checkpoint's tokenizer; its <see cref="ITokenizer.Config"/> supplies the template.</param>
    /// <param name="chatTemplate">A Jinja template to use instead of the tokenizer's own (e.g. <c>--chat-template FILE</c>).</param>
    /// <param name="chatTemplateSource">Where <paramref name="chatTemplate"/> came from, for error messages.</param>
    /// <exception cref="ArgumentException">No template to use and the tokenizer lacks one of the Llama 3 specials.</exception>
    /// <exception cref="JinjaException">The template is outside PostTrain's Jinja subset; the message names the construct.</exception>
    public ChatTemplate(ITokenizer tokenizer, string? chatTemplate = null, string? chatTemplateSource = null)
    {
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        var source = chatTemplate ?? tokenizer.Config.ChatTemplate;
        if (source is not null && source != JinjaTemplate)
        {
            _checkpoint = new CheckpointChatFormat(tokenizer, Jinja.JinjaTemplate.Parse(source, chatTemplate is null ? tokenizer.Config.ChatTemplateSource : chatTemplateSource ?? "--chat-template"));
            StopIds = _checkpoint.StopIds;
            _eot = _checkpoint.StopIds[0];
            _bos = _startHeader = _endHeader = _endOfText = -1;
            _roleIds = [];
            _newlineIds = [];
            return;
        }
        int Need(string special) => tokenizer.TokenToId(special)
            ?? throw new ArgumentException($"tokenizer has no special token {special} and no chat_template in tokenizer_config.json; the built-in Llama 3 chat format needs {string.Join(", ", SpecialTokens.All.Take(5))}", nameof(tokenizer));
        _bos = Need(SpecialTokens.BeginOfText);
        _endOfText = Need(SpecialTokens.EndOfText);
        _startHeader = Need(SpecialTokens.StartHeader);
        _endHeader = Need(SpecialTokens.EndHeader);
        _eot = Need(SpecialTokens.EndOfTurn);
        _roleIds = Roles.ToDictionary(r => r, tokenizer.Encode);
        _newlineIds = tokenizer.Encode(HeaderNewlines);
        StopIds = [_eot, _endOfText];
    }

    public ITokenizer Tokenizer { get; }

    /// <summary>Ids that end a sampled response: eot first (the assistant's turn ends), end_of_text as a fallback.</summary>
    public IReadOnlyList<int> StopIds { get; }

    public int EndOfTurnId => _eot;

    /// <summary>True when the checkpoint's own Jinja template is used rather than the built-in Llama 3 format.</summary>
    public bool UsesCheckpointTemplate => _checkpoint is not null;

    /// <summary>The conversation as text, as this template renders it (special tokens as their strings).</summary>
    public string RenderText(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        _checkpoint?.Render(messages, addGenerationPrompt) ?? Render(messages, addGenerationPrompt);

    /// <summary>The conversation followed by an open assistant header, so generation starts the response.</summary>
    public ChatEncoding EncodePrompt(IReadOnlyList<ChatMessage> messages)
    {
        if (_checkpoint is not null) return _checkpoint.EncodePrompt(messages);
        var (ids, formatting) = Begin();
        AppendMessages(messages, ids, formatting);
        AppendHeader(AssistantRole, ids, formatting);
        return new ChatEncoding(ids.ToArray(), formatting.ToArray(), ids.Count);
    }

    /// <summary>Prompt plus response plus eot. The eot is formatting (DPO masks it) yet lies after
    /// <see cref="ChatEncoding.PromptLength"/>, so SFT learns to stop.</summary>
    public ChatEncoding EncodeExample(IReadOnlyList<ChatMessage> prompt, string response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (_checkpoint is not null) return _checkpoint.EncodeExample(prompt, response);
        var (ids, formatting) = Begin();
        AppendMessages(prompt, ids, formatting);
        AppendHeader(AssistantRole, ids, formatting);
        var promptLength = ids.Count;
        Append(Tokenizer.Encode(response), false, ids, formatting);
        Append([_eot], true, ids, formatting);
        return new ChatEncoding(ids.ToArray(), formatting.ToArray(), promptLength);
    }

    /// <summary>Text of a generated continuation up to (not including) the first stop token; other specials are dropped.</summary>
    public string DecodeResponse(ReadOnlySpan<int> generated)
    {
        var kept = new List<int>(generated.Length);
        foreach (var id in generated)
        {
            if (id == _eot || id == _endOfText || (_checkpoint is not null && StopIds.Contains(id))) break;
            if (!Tokenizer.IsSpecial(id)) kept.Add(id);
        }
        return Tokenizer.Decode(kept.ToArray());
    }

    /// <summary>The conversation as Llama 3 text (what <see cref="JinjaTemplate"/> renders), for logs and exports.</summary>
    public static string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var sb = new System.Text.StringBuilder(SpecialTokens.BeginOfText);
        foreach (var m in messages)
            sb.Append(SpecialTokens.StartHeader).Append(m.Role).Append(SpecialTokens.EndHeader).Append(HeaderNewlines).Append(m.Content).Append(SpecialTokens.EndOfTurn);
        if (addGenerationPrompt) sb.Append(SpecialTokens.StartHeader).Append(AssistantRole).Append(SpecialTokens.EndHeader).Append(HeaderNewlines);
        return sb.ToString();
    }

    private (List<int> Ids, List<bool> Formatting) Begin() => ([_bos], [true]);

    private void AppendMessages(IReadOnlyList<ChatMessage> messages, List<int> ids, List<bool> formatting)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var m in messages)
        {
            AppendHeader(m.Role, ids, formatting, newlines: false);
            var body = Tokenizer.Encode(HeaderNewlines + (m.Content ?? throw new ArgumentException($"message with role {m.Role} has null content", nameof(messages))));
            var newlineTokens = LeadingNewlineTokens(body);
            Append(body[..newlineTokens], true, ids, formatting);
            Append(body[newlineTokens..], false, ids, formatting);
            Append([_eot], true, ids, formatting);
        }
    }

    /// <summary>
    /// How many leading ids of an encoded "\n\n" + content spell exactly the header's two newlines. A token that
    /// straddles them and the content (only when content starts with whitespace) counts as content.
    /// </summary>
    private int LeadingNewlineTokens(int[] body)
    {
        var chars = 0;
        var count = 0;
        while (count < body.Length && chars < HeaderNewlines.Length)
        {
            var piece = Tokenizer.Decode(body.AsSpan(count, 1));
            if (piece.Length == 0 || piece.Any(c => c != '\n') || chars + piece.Length > HeaderNewlines.Length) break;
            chars += piece.Length;
            count++;
        }
        return chars == HeaderNewlines.Length ? count : 0;
    }

    private void AppendHeader(string role, List<int> ids, List<bool> formatting, bool newlines = true)
    {
        if (!_roleIds.TryGetValue(role ?? "", out var roleIds))
            throw new ArgumentException($"unknown role \"{role}\"; expected one of {string.Join(", ", Roles)}");
        Append([_startHeader], true, ids, formatting);
        Append(roleIds, true, ids, formatting);
        Append([_endHeader], true, ids, formatting);
        if (newlines) Append(_newlineIds, true, ids, formatting);
    }

    private static void Append(int[] add, bool isFormatting, List<int> ids, List<bool> formatting)
    {
        ids.AddRange(add);
        for (var i = 0; i < add.Length; i++) formatting.Add(isFormatting);
    }
}
