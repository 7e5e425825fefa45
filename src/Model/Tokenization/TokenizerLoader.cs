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
        // tokenizer.json wins: PostTrain writes it, and HF checkpoints that have both treat it as authoritative.
        if (File.Exists(Path.Combine(dir, ByteBpeTokenizer.TokenizerFile))) return ByteBpeTokenizer.Load(dir);
        var model = Path.Combine(dir, SentencePieceTokenizer.ModelFile);
        if (File.Exists(model)) return SentencePieceTokenizer.Load(model);
        return null;
    }
}
