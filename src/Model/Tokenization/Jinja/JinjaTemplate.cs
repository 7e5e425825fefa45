namespace PostTrain.Model.Tokenization.Jinja;

/// <summary>
/// A parsed chat template in PostTrain's Jinja subset, rendered the way Hugging Face's apply_chat_template renders
/// it (trim_blocks, lstrip_blocks, loop controls, raise_exception, json.dumps-style tojson, strftime_now). Parsing
/// refuses a construct outside the subset by name, so a checkpoint fails at load time rather than mid-run.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Node> _nodes;

    private JinjaTemplate(List<Node> nodes, string source) { _nodes = nodes; Source = source; }

    /// <summary>Where the template came from ("DIR/tokenizer_config.json: chat_template"), for messages.</summary>
    public string Source { get; }

    /// <exception cref="JinjaException">Syntax error or unsupported construct; the message names source, line and construct.</exception>
    public static JinjaTemplate Parse(string template, string source)
    {
        ArgumentNullException.ThrowIfNull(template);
        return new JinjaTemplate(JinjaParser.Parse(template, source), source);
    }

    /// <summary>
    /// Renders with <paramref name="variables"/> as the top-level names. Values are null, bool, long, double, string,
    /// <c>List&lt;object?&gt;</c> and <c>Dictionary&lt;string, object?&gt;</c> (see <see cref="FromJson"/>).
    /// </summary>
    /// <exception cref="JinjaException">A render error or the template's raise_exception(message); the message names the source.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables) => new JinjaRenderer(Source, variables).Render(_nodes);

    /// <summary>A JSON value (a message list, a tool schema) as a template value.</summary>
    public static object? FromJson(System.Text.Json.JsonElement element) => JinjaValues.FromJson(element);
}
