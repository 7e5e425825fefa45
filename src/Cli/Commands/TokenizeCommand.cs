using System.CommandLine;
using System.Text.Json;
using PostTrain.Model.Tokenization;
using PostTrain.Model.Tokenization.Jinja;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain tokenize</c>: ids of texts, or of a conversation rendered with the tokenizer's own chat template, as
/// Hugging Face gives them (special-token strings in the text are recognised; no bos/eos is added).
/// </summary>
public static class TokenizeCommand
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "Checkpoint directory, tokenizer.json, or a SentencePiece .model", Required = true };
        var text = new Option<string>("--text") { Description = "One text to encode" };
        var file = new Option<string>("--file") { Description = "JSON array of strings to encode" };
        var messages = new Option<string>("--messages") { Description = "JSON array of {role, content}: render the chat template (add_generation_prompt on) and encode it" };
        var chatTemplate = new Option<string>("--chat-template") { Description = "Jinja file to use instead of tokenizer_config.json's chat_template (with --messages)" };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of id arrays, one per string" };
        var command = new Command("tokenize", "Encode texts or a conversation with a checkpoint's tokenizer") { tokenizer, text, file, messages, chatTemplate, json };
        command.SetAction((parse, _) => Task.FromResult(Run(parse.GetValue(tokenizer)!, parse.GetValue(text), parse.GetValue(file),
            parse.GetValue(messages), parse.GetValue(chatTemplate), parse.GetValue(json))));
        return command;
    }

    public static int Run(string tokenizerPath, string? text, string? file, string? messages, string? chatTemplate, bool json)
    {
        if (new[] { text, file, messages }.Count(x => x is not null) != 1)
            return Fail(2, "pass exactly one of --text TEXT, --file TEXTS.json or --messages CONV.json");
        if (chatTemplate is not null && messages is null) return Fail(2, "--chat-template: only used with --messages CONV.json");
        ITokenizer tok;
        try { tok = TokenizerLoader.LoadPath(tokenizerPath); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return Fail(1, e.Message); }
        try
        {
            if (messages is not null) return RenderConversation(tok, tokenizerPath, messages, chatTemplate);
            var texts = text is not null ? [text] : ReadTexts(file!);
            var ids = texts.Select(tok.EncodeWithSpecials).ToArray();
            if (json) Console.WriteLine(JsonSerializer.Serialize(ids));
            else foreach (var row in ids) Console.WriteLine(string.Join(" ", row));
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or JinjaException) { return Fail(1, e.Message); }
    }

    private static int RenderConversation(ITokenizer tok, string tokenizerPath, string conversationFile, string? chatTemplateFile)
    {
        var template = chatTemplateFile is not null ? File.ReadAllText(chatTemplateFile) : tok.Config.ChatTemplate;
        var source = chatTemplateFile ?? tok.Config.ChatTemplateSource;
        if (template is null)
            return Fail(1, $"{tokenizerPath}: {TokenizerConfig.FileName}: chat_template: missing; pass --chat-template FILE");
        var conversation = ReadJson(conversationFile);
        if (conversation.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{conversationFile}: expected a JSON array of {{role, content}}, found {conversation.ValueKind}");
        var i = 0;
        foreach (var m in conversation.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{conversationFile}: [{i}]: expected an object {{role, content}}, found {m.ValueKind}");
            if (!m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{conversationFile}: [{i}].role: missing or not a string");
            if (m.TryGetProperty("content", out var content) && content.ValueKind is not (JsonValueKind.String or JsonValueKind.Null or JsonValueKind.Array))
                throw new InvalidDataException($"{conversationFile}: [{i}].content: expected a string, found {content.ValueKind}");
            i++;
        }
        var rendered = JinjaTemplate.Parse(template, source).Render(tok.Config.TemplateVariables(JinjaTemplate.FromJson(conversation), addGenerationPrompt: true));
        Console.WriteLine(JsonSerializer.Serialize(new { text = rendered, ids = tok.EncodeWithSpecials(rendered) }, Compact));
        return 0;
    }

    private static string[] ReadTexts(string file)
    {
        var root = ReadJson(file);
        if (root.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{file}: expected a JSON array of strings, found {root.ValueKind}");
        var texts = new List<string>();
        foreach (var e in root.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{file}: [{texts.Count}]: expected a string, found {e.ValueKind}");
            texts.Add(e.GetString()!);
        }
        return [.. texts];
    }

    private static JsonElement ReadJson(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no such file");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            return doc.RootElement.Clone();
        }
        catch (JsonException e) { throw new InvalidDataException($"{file}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}", e); }
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
