namespace PostTrain.Model.Tokenization.Jinja;

/// <summary>
/// A chat template that cannot be parsed, uses a construct outside PostTrain's Jinja subset, or fails while
/// rendering (including the template's own <c>raise_exception(...)</c>). The message names the template's source and line.
/// </summary>
public sealed class JinjaException(string message) : Exception(message)
{
    /// <summary>What to tell a user whose template is outside the subset.</summary>
    public const string HowToPass =
        "PostTrain renders a Jinja subset (if/elif/else, for with loop.*, set, namespace(), break/continue, filters such as " +
        "trim/length/tojson/join/default/items/map/select/reject, string methods such as strip/startswith/split/title); " +
        "replace chat_template in tokenizer_config.json (or chat_template.jinja) with a template in this subset, " +
        "or try one with `posttrain tokenize --tokenizer DIR --messages CONV.json --chat-template FILE`";
}
