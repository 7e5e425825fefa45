namespace PostTrain.Model.Tokenization;

/// <summary>
/// The one tokenizer contract every stage sees, so a PostTrain-trained BPE and an imported Llama/Mistral
/// SentencePiece model are interchangeable behind the chat template, the sampler and the trainers.
/// </summary>
public interface ITokenizer
{
    /// <summary>Rows of the embedding matrix this tokenizer needs: every id it can emit is below this.</summary>
    int VocabSize { get; }

    /// <summary>Start of a document; the chat template puts it first.</summary>
    int BosId { get; }

    /// <summary>End of a whole document (<c>&lt;|end_of_text|&gt;</c> in Llama 3; <c>&lt;/s&gt;</c> in SentencePiece models).</summary>
    int EosId { get; }

    /// <summary>Fills ragged batches; never attended to and never a target.</summary>
    int PadId { get; }

    /// <summary>Encodes plain text. Special-token strings inside <paramref name="text"/> are encoded as ordinary text, never as specials, so user content cannot forge a header.</summary>
    int[] Encode(string text);

    /// <summary>
    /// Encodes text as Hugging Face's <c>tokenizer(text, add_special_tokens=False)</c> does: added and special token
    /// strings inside <paramref name="text"/> become their ids (for rendered chat templates and <c>posttrain tokenize</c>).
    /// </summary>
    int[] EncodeWithSpecials(string text);

    /// <summary>The checkpoint's tokenizer_config.json (chat template, special-token strings); empty when it has none.</summary>
    TokenizerConfig Config { get; }

    /// <summary>Decodes ids; special tokens are rendered as their literal strings.</summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>The id of a special token by its literal string, or null when this vocabulary lacks it.</summary>
    int? TokenToId(string special);

    bool IsSpecial(int id);

    /// <summary>Writes the tokenizer's files into <paramref name="dir"/> (each temp-then-rename).</summary>
    void Save(string dir);
}
