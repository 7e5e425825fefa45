using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>Limits and bookkeeping for <see cref="PreferenceImporter"/>.</summary>
public sealed record PreferenceImportOptions
{
    /// <summary>Default null. When set, each of chosen / rejected / edited is encoded with its prompt through this
    /// template and must fit <see cref="MaxTokens"/>; a pair that cannot fit the context would be truncated silently later.</summary>
    public ChatTemplate? Template { get; init; }

    /// <summary>Default null. Used when <see cref="Template"/> is null: through a Llama 3 chat template if it has the
    /// chat specials, else as the plain token count of the prompt messages' contents plus the response.</summary>
    public ITokenizer? Tokenizer { get; init; }

    /// <summary>Default 4096. Longest prompt + response in tokens (with a template: bos, headers and eot included).
    /// Checked only when <see cref="Template"/> or <see cref="Tokenizer"/> is set.</summary>
    public int MaxTokens { get; init; } = 4096;

    /// <summary>Default true. Adds "file", "line" and "format" to each pair's Source so a bad training example can be traced back.</summary>
    public bool AddProvenance { get; init; } = true;
}
