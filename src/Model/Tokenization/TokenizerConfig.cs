using System.Text.Json;

namespace PostTrain.Model.Tokenization;

/// <summary>
/// What a checkpoint's <c>tokenizer_config.json</c> tells a chat template: the Jinja <c>chat_template</c> (or a
/// <c>chat_template.jinja</c> file beside it, which newer transformers write and prefer) and the special-token
/// strings that Hugging Face passes to it (<c>bos_token</c>, <c>eos_token</c>, ...).
/// </summary>
public sealed record TokenizerConfig
{
    public const string FileName = "tokenizer_config.json";
    public const string TemplateFileName = "chat_template.jinja";
    private static readonly string[] TokenFields = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    /// <summary>The Jinja source, or null when the checkpoint ships none.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Where <see cref="ChatTemplate"/> came from, for error messages ("DIR/tokenizer_config.json: chat_template").</summary>
    public string ChatTemplateSource { get; init; } = "chat_template";

    /// <summary>Template variables by name (<c>bos_token</c> → <c>&lt;s&gt;</c>); absent or null tokens are left out.</summary>
    public IReadOnlyDictionary<string, string> SpecialTokens { get; init; } = new Dictionary<string, string>();

    /// <summary>tokenizer_config.json's additional_special_tokens (Qwen's &lt;|im_start|&gt;...).</summary>
    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];

    public static TokenizerConfig Empty { get; } = new();

    /// <summary>
    /// The names Hugging Face's apply_chat_template gives a template: messages, add_generation_prompt, tools and
    /// documents (None), and every special token of the config (bos_token, eos_token, ..., additional_special_tokens).
    /// </summary>
    /// <param name="messages">A list of message dictionaries, as <see cref="Jinja.JinjaTemplate.FromJson"/> gives.</param>
    public Dictionary<string, object?> TemplateVariables(object? messages, bool addGenerationPrompt)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in SpecialTokens) variables[name] = value;
        variables["additional_special_tokens"] = AdditionalSpecialTokens.Select(t => (object?)t).ToList();
        variables["messages"] = messages;
        variables["add_generation_prompt"] = addGenerationPrompt;
        variables["tools"] = null;
        variables["documents"] = null;
        return variables;
    }

    /// <summary>Reads DIR/tokenizer_config.json and DIR/chat_template.jinja when present; neither is required.</summary>
    /// <exception cref="InvalidDataException">A present file is not valid; the message names file, field and reason.</exception>
    public static TokenizerConfig Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        var config = File.Exists(path) ? Parse(File.ReadAllBytes(path), path) : Empty;
        var jinja = Path.Combine(dir, TemplateFileName);
        return File.Exists(jinja) ? config with { ChatTemplate = File.ReadAllText(jinja), ChatTemplateSource = jinja } : config;
    }

    public static TokenizerConfig Parse(byte[] json, string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: $: expected an object, found {root.ValueKind}");
            var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var field in TokenFields)
                if (Token(root, field) is { } value) tokens[field] = value;
            var additional = new List<string>();
            if (root.TryGetProperty("additional_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Array)
                foreach (var e in extra.EnumerateArray())
                    if (e.ValueKind == JsonValueKind.String) additional.Add(e.GetString()!);
                    else if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) additional.Add(c.GetString()!);
            return new TokenizerConfig
            {
                ChatTemplate = Template(root, path),
                ChatTemplateSource = $"{path}: chat_template",
                SpecialTokens = tokens,
                AdditionalSpecialTokens = additional,
            };
        }
    }

    /// <summary>HF writes a special either as a plain string or as an AddedToken object with "content".</summary>
    internal static string? Token(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }

    /// <summary>A string, or (as Hugging Face writes several) a list of {name, template} from which "default" is used.</summary>
    private static string? Template(JsonElement root, string path)
    {
        if (!root.TryGetProperty("chat_template", out var t) || t.ValueKind == JsonValueKind.Null) return null;
        if (t.ValueKind == JsonValueKind.String) return t.GetString();
        if (t.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in t.EnumerateArray())
                if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == "default" &&
                    e.TryGetProperty("template", out var body) && body.ValueKind == JsonValueKind.String)
                    return body.GetString();
            throw new InvalidDataException($"{path}: chat_template: a list of templates has no entry named \"default\"");
        }
        throw new InvalidDataException($"{path}: chat_template: expected a string or a list of {{name, template}}, found {t.ValueKind}");
    }
}
