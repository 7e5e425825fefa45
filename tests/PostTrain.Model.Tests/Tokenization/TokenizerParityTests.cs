using System.IO.Compression;
using System.Text.Json;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

/// <summary>
/// Ids of published tokenizer files against @huggingface/tokenizers (tests/fixtures-gen/make_tokenizer_fixtures.mjs):
/// GPT-2, Llama 2/TinyLlama (legacy Prepend+Replace), Llama 2's vocabulary in the Metaspace layout of Mistral v0.3,
/// Llama 3.1 and Qwen2/3, on unicode, CJK, emoji, code, whitespace runs, digits and special-token strings.
/// </summary>
public sealed class TokenizerParityTests
{
    public static TheoryData<string> Layouts => new() { "gpt2", "llama2", "llama2-metaspace", "llama3", "qwen2" };

    /// <summary>Unpacks Fixtures/tokenizers/NAME into a temp checkpoint directory (the vocabularies are stored gzipped).</summary>
    internal static string Unpack(string name)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", name);
        var dir = Path.Combine(Path.GetTempPath(), $"posttrain-tok-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var json = Path.Combine(dir, ByteBpeTokenizer.TokenizerFile);
        if (!File.Exists(json))
        {
            using var gz = new GZipStream(File.OpenRead(Path.Combine(source, "tokenizer.json.gz")), CompressionMode.Decompress);
            using var tmp = File.Create(json + ".tmp");
            gz.CopyTo(tmp);
            tmp.Close();
            File.Move(json + ".tmp", json, overwrite: true);
        }
        File.Copy(Path.Combine(source, TokenizerConfig.FileName), Path.Combine(dir, TokenizerConfig.FileName), overwrite: true);
        return dir;
    }

    internal static (string[] Texts, int[][] Ids) Expected(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", name, "expected.json")));
        var texts = doc.RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(a => a.EnumerateArray().Select(i => i.GetInt32()).ToArray()).ToArray();
        return (texts, ids);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void EncodeWithSpecials_PublishedFile_MatchesHuggingFace(string name)
    {
        var tokenizer = TokenizerLoader.Load(Unpack(name))!;
        var (texts, expected) = Expected(name);
        Assert.True(texts.Length >= 30);
        var failures = new List<string>();
        for (var i = 0; i < texts.Length; i++)
        {
            var actual = tokenizer.EncodeWithSpecials(texts[i]);
            if (!actual.SequenceEqual(expected[i]))
                failures.Add($"{JsonSerializer.Serialize(texts[i])}: expected [{string.Join(",", expected[i])}] got [{string.Join(",", actual)}]");
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {texts.Length} texts differ:\n{string.Join("\n", failures)}");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Encode_TextWithoutSpecialStrings_EqualsEncodeWithSpecials_AndSpecialStringsStayText(string name)
    {
        var tokenizer = TokenizerLoader.Load(Unpack(name))!;
        var (texts, expected) = Expected(name);
        for (var i = 0; i < texts.Length; i++)
            if (!texts[i].Contains('<')) Assert.Equal(expected[i], tokenizer.Encode(texts[i]));
        var eos = tokenizer.Decode([tokenizer.EosId]);
        Assert.DoesNotContain(tokenizer.EosId, tokenizer.Encode("a" + eos + "b"));
        Assert.Contains(tokenizer.EosId, tokenizer.EncodeWithSpecials("a" + eos + "b"));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama3")]
    [InlineData("qwen2")]
    public void Decode_ByteLevel_RoundTripsEveryText(string name)
    {
        var tokenizer = TokenizerLoader.Load(Unpack(name))!;
        var (texts, expected) = Expected(name);
        for (var i = 0; i < texts.Length; i++)
        {
            // Qwen normalizes to NFC before splitting, so "e" + U+0301 comes back precomposed.
            var want = name == "qwen2" ? texts[i].Normalize(System.Text.NormalizationForm.FormC) : texts[i];
            Assert.Equal(want, tokenizer.Decode(expected[i]));
        }
    }

    [Theory]
    [InlineData("llama2")]
    [InlineData("llama2-metaspace")]
    public void Decode_SentencePieceLayout_RestoresTextWithoutTheAddedPrefixSpace(string name)
    {
        var tokenizer = TokenizerLoader.Load(Unpack(name))!;
        Assert.IsType<MetaspaceBpeTokenizer>(tokenizer);
        foreach (var text in new[] { "Hello world", "你好，世界！", "emoji 👍🏽 and 😀", "tabs\tand\nnewlines  x" })
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void Load_Llama3_ReadsChatTemplateAndSpecialTokensFromConfig()
    {
        var tokenizer = TokenizerLoader.Load(Unpack("llama3"))!;
        Assert.Contains("<|start_header_id|>", tokenizer.Config.ChatTemplate);
        Assert.Equal("<|begin_of_text|>", tokenizer.Config.SpecialTokens["bos_token"]);
        Assert.Equal(128000, tokenizer.BosId);
    }

    [Theory]
    [InlineData("bpe")]
    [InlineData("unigram")]
    public void Encode_SentencePieceModel_MatchesSentencepiece(string kind)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "spm");
        var tokenizer = TokenizerLoader.LoadPath(Path.Combine(dir, kind + ".model"));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "expected.json")));
        var texts = doc.RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var expected = doc.RootElement.GetProperty(kind).EnumerateArray().Select(a => a.EnumerateArray().Select(i => i.GetInt32()).ToArray()).ToArray();
        var failures = new List<string>();
        for (var i = 0; i < texts.Length; i++)
        {
            // sentencepiece never matches special strings inside text, so the plain Encode is the one to compare.
            var actual = tokenizer.Encode(texts[i]);
            if (!actual.SequenceEqual(expected[i]))
                failures.Add($"{JsonSerializer.Serialize(texts[i])}: expected [{string.Join(",", expected[i])}] got [{string.Join(",", actual)}]");
        }
        Assert.True(failures.Count == 0, $"{kind}: {failures.Count} of {texts.Length} texts differ:\n{string.Join("\n", failures)}");
    }
}
