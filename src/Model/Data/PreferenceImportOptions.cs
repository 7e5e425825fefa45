using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Data;

/// <summary>Limits and bookkeeping for <see cref="PreferenceImporter"/>.</summary>
public sealed record PreferenceImportOptions
{
    /// <summary>Default null. When set, each of chosen / rejected / edited is encoded with its prompt through this
    /// template and must fit <see cref="MaxTokens"/>; a pair that cannot fit the context would be truncated silently later.</summary>
    public ChatTemplate? Template { get; init; }

    /// <summary>Default 4096. Longest prompt + response in tokens (bos, headers and eot included). Checked only with a <see cref="Template"/>.</summary>
    public int MaxTokens { get; init; } = 4096;

    /// <summary>Default true. Adds "file", "line" and "format" to each pair's Source so a bad training example can be traced back.</summary>
    public bool AddProvenance { get; init; } = true;
}
