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
            return IsMetaspaceLayout(json) ? MetaspaceBpeTokenizer.Load(dir) : ByteBpeTokenizer.Load(dir);
        }
        catch (InvalidDataException jsonError) when (File.Exists(model))
        {
            // A tokenizer.json this code cannot reproduce exactly, beside a tokenizer.model: the .model is the source.
            try { return SentencePieceTokenizer.Load(model); }
            catch (InvalidDataException modelError)
            {
                throw new InvalidDataException($"no readable tokenizer in {dir}:{Environment.NewLine}{jsonError.Message}{Environment.NewLine}{modelError.Message}", modelError);
            }
        }
    }

    /// <summary>
    /// A checkpoint directory, or one tokenizer file in it: <c>tokenizer.json</c> (its tokenizer_config.json beside it
    /// is read too) or a SentencePiece <c>*.model</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">Nothing readable there; the message names the path and why.</exception>
    public static ITokenizer LoadPath(string dirOrFile)
    {
        if (File.Exists(dirOrFile))
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(dirOrFile))!;
            if (dirOrFile.EndsWith(".model", StringComparison.OrdinalIgnoreCase)) return SentencePieceTokenizer.Load(dirOrFile);
            if (Path.GetFileName(dirOrFile) == ByteBpeTokenizer.TokenizerFile)
                return IsMetaspaceLayout(dirOrFile) ? MetaspaceBpeTokenizer.Load(dir) : ByteBpeTokenizer.Load(dir);
            throw new InvalidDataException($"{dirOrFile}: expected a directory, {ByteBpeTokenizer.TokenizerFile} or a SentencePiece .model file");
        }
        if (!Directory.Exists(dirOrFile)) throw new InvalidDataException($"{dirOrFile}: no such file or directory");
        return Load(dirOrFile)
            ?? throw new InvalidDataException($"{dirOrFile}: no {ByteBpeTokenizer.TokenizerFile} or {SentencePieceTokenizer.ModelFile} in this directory");
    }

    private static bool IsMetaspaceLayout(string jsonPath)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(jsonPath));
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && MetaspaceBpeTokenizer.Matches(doc.RootElement);
        }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{jsonPath}: not valid JSON: {e.Message}", e); }
    }
}
