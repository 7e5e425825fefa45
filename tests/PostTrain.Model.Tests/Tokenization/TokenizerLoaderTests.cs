using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

public sealed class TokenizerLoaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pt-tl-" + Guid.NewGuid().ToString("N"));

    public TokenizerLoaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_DirWithoutTokenizerFiles_ReturnsNull()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{}");
        Assert.Null(TokenizerLoader.Load(_dir));
    }

    [Fact]
    public void Load_DirWithTokenizerJson_ReturnsByteBpe()
    {
        var tok = ByteBpeTokenizer.Train(TestCorpus.Lines(100), 300);
        tok.Save(_dir);
        var loaded = TokenizerLoader.Load(_dir);
        Assert.IsType<ByteBpeTokenizer>(loaded);
        Assert.Equal(tok.Encode("What is 1 + 2?"), loaded!.Encode("What is 1 + 2?"));
    }

    [Fact]
    public void Load_MissingDir_Throws()
    {
        Assert.Throws<DirectoryNotFoundException>(() => TokenizerLoader.Load(Path.Combine(_dir, "nope")));
    }
}
