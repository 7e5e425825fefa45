namespace PostTrain.Model.Tokenization;

/// <summary>
/// Picks the tokenizer implementation from the files in a checkpoint directory. Returns null when there are none,
/// because a Hugging Face checkpoint may ship weights only and still load; the caller then supplies a tokenizer.
/// </summary>
public static class TokenizerLoader
{
    /// <exception cref="InvalidDataException">A tokenizer file exists but cannot be read; the message names it and why.</exception>
    public static ITokenizer? Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: tokenizer directory does not exist");
        var json = Path.Combine(dir, ByteBpeTokenizer.TokenizerFile);
        var model = Path.Combine(dir, SentencePieceTokenizer.ModelFile);
        if (!File.Exists(json)) return File.Exists(model) ? SentencePieceTokenizer.Load(model) : null;
        try
        {
            return ByteBpeTokenizer.Load(dir);
        }
        catch (InvalidDataException jsonError) when (File.Exists(model))
        {
            // Llama 2 / Mistral checkpoints ship a Metaspace tokenizer.json beside tokenizer.model; the .model is the source.
            try { return SentencePieceTokenizer.Load(model); }
            catch (InvalidDataException modelError)
            {
                throw new InvalidDataException($"no readable tokenizer in {dir}:{Environment.NewLine}{jsonError.Message}{Environment.NewLine}{modelError.Message}", modelError);
            }
        }
    }
}
