using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

public sealed class ByteBpeTokenizerTests : IDisposable
{
    private static readonly Lazy<ByteBpeTokenizer> Shared = new(() => ByteBpeTokenizer.Train(TestCorpus.Lines(3000), 512));
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pt-tok-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Train_TargetVocab_ReachesExactSizeWithSpecialsAtEnd()
    {
        var tok = Shared.Value;
        Assert.Equal(512, tok.VocabSize);
        var firstSpecial = 512 - SpecialTokens.All.Count;
        for (var i = 0; i < SpecialTokens.All.Count; i++)
        {
            Assert.Equal(firstSpecial + i, tok.TokenToId(SpecialTokens.All[i]));
            Assert.True(tok.IsSpecial(firstSpecial + i));
        }
        Assert.False(tok.IsSpecial(0));
        Assert.Equal(tok.TokenToId(SpecialTokens.BeginOfText), tok.BosId);
        Assert.Equal(tok.TokenToId(SpecialTokens.EndOfText), tok.EosId);
        Assert.Equal(tok.TokenToId(SpecialTokens.Pad), tok.PadId);
        Assert.Null(tok.TokenToId("<|nope|>"));
    }

    [Fact]
    public void Train_SameCorpusTwice_IdenticalTokenizers()
    {
        var a = ByteBpeTokenizer.Train(TestCorpus.Lines(500), 400);
        var b = ByteBpeTokenizer.Train(TestCorpus.Lines(500), 400);
        Assert.Equal(a.VocabSize, b.VocabSize);
        for (var id = 0; id < a.VocabSize; id++) Assert.Equal(a.IdToToken(id), b.IdToToken(id));
    }

    [Fact]
    public void Train_FrequentWords_CompressBelowByteCount()
    {
        var tok = Shared.Value;
        var text = "the answer is what sum of numbers";
        Assert.True(tok.Encode(text).Length < Encoding.UTF8.GetByteCount(text) / 2, $"{tok.Encode(text).Length} tokens for {text.Length} bytes");
    }

    [Fact]
    public void Encode_Digits_EachDigitIsOneToken()
    {
        var tok = Shared.Value;
        var ids = tok.Encode("12345 + 6789 = 19134");
        var digitTokens = ids.Select(id => tok.Decode([id])).Where(s => s.Any(char.IsAsciiDigit)).ToList();
        Assert.Equal(14, digitTokens.Count);
        Assert.All(digitTokens, s => Assert.True(s.Length == 1, $"token \"{s}\" holds a digit and more"));
    }

    [Fact]
    public void Encode_SpecialTokenText_IsNotASpecial()
    {
        var tok = Shared.Value;
        var ids = tok.Encode(SpecialTokens.EndOfTurn);
        Assert.DoesNotContain(ids, tok.IsSpecial);
        Assert.Equal(SpecialTokens.EndOfTurn, tok.Decode(ids));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" leading space")]
    [InlineData("  two leading, trailing  ")]
    [InlineData("line1\nline2\r\n\n\ttab")]
    [InlineData("日本語のテキストと中文")]
    [InlineData("emoji 🙂👍🏽 family 👨‍👩‍👧 flag 🇫🇷")]
    [InlineData("mixed 123abc456 -7.5e10 $1,000")]
    [InlineData("\u0000 nul and \u007f del and \u00a0 nbsp")]
    [InlineData("𠜎𠜱 supplementary CJK")]
    public void Decode_EncodedExplicitString_RoundTrips(string text)
    {
        var tok = Shared.Value;
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void Decode_EncodedRandomStrings_RoundTrip()
    {
        var tok = Shared.Value;
        var rng = new Random(1234);
        for (var n = 0; n < 500; n++)
        {
            var text = RandomString(rng, rng.Next(0, 60));
            var ids = tok.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, tok.VocabSize - 1));
            Assert.Equal(text, tok.Decode(ids));
        }
    }

    [Fact]
    public void Decode_IdOutOfRange_Throws()
    {
        var tok = Shared.Value;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([tok.VocabSize]));
        Assert.Contains($"[0, {tok.VocabSize})", e.Message);
    }

    [Fact]
    public void Load_SavedTokenizer_EncodesIdentically()
    {
        var tok = Shared.Value;
        tok.Save(_dir);
        var loaded = ByteBpeTokenizer.Load(_dir);
        Assert.Equal(tok.VocabSize, loaded.VocabSize);
        Assert.Equal(tok.BosId, loaded.BosId);
        Assert.Equal(tok.EosId, loaded.EosId);
        Assert.Equal(tok.PadId, loaded.PadId);
        var rng = new Random(5);
        foreach (var text in TestCorpus.Lines(50, seed: 99).Append(RandomString(rng, 200)))
            Assert.Equal(tok.Encode(text), loaded.Encode(text));
    }

    [Fact]
    public void Save_Always_WritesHuggingFaceLayout()
    {
        Shared.Value.Save(_dir);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "tokenizer.json")));
        var root = doc.RootElement;
        Assert.Equal("BPE", root.GetProperty("model").GetProperty("type").GetString());
        Assert.Equal(0, root.GetProperty("model").GetProperty("vocab").GetProperty("Ā").GetInt32()); // byte 0x00 in GPT-2's alphabet
        Assert.Equal(32, root.GetProperty("model").GetProperty("vocab").GetProperty("Ġ").GetInt32());  // space
        Assert.Equal("Sequence", root.GetProperty("pre_tokenizer").GetProperty("type").GetString());
        Assert.Equal("ByteLevel", root.GetProperty("decoder").GetProperty("type").GetString());
        Assert.Equal(6, root.GetProperty("added_tokens").GetArrayLength());
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "tokenizer_config.json")));
        Assert.Equal(SpecialTokens.BeginOfText, config.RootElement.GetProperty("bos_token").GetString());
        Assert.Contains("<|start_header_id|>", config.RootElement.GetProperty("chat_template").GetString());
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void Load_MergeOfUnknownToken_ErrorNamesFileAndMerge()
    {
        Shared.Value.Save(_dir);
        var path = Path.Combine(_dir, "tokenizer.json");
        var json = File.ReadAllText(path).Replace("\"merges\": [", "\"merges\": [\n      [\"zzzq\", \"Ġ\"],");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => ByteBpeTokenizer.Load(_dir));
        Assert.Contains(path, e.Message);
        Assert.Contains("model.merges[0]", e.Message);
        Assert.Contains("zzzq", e.Message);
    }

    [Fact]
    public void Load_UnsupportedPreTokenizer_ErrorExplainsExpectedLayout()
    {
        Shared.Value.Save(_dir);
        var path = Path.Combine(_dir, "tokenizer.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["pre_tokenizer"] = System.Text.Json.Nodes.JsonNode.Parse("""{"type": "Metaspace", "replacement": "▁"}""");
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => ByteBpeTokenizer.Load(_dir));
        Assert.StartsWith($"{path}: pre_tokenizer: expected ByteLevel", e.Message);
        Assert.Contains("Metaspace", e.Message);
    }

    /// <summary>Llama 3's tokenizer.json layout: one Split regex, then ByteLevel without its own regex, ignore_merges.</summary>
    internal const string Llama3PreTokenizer = """
        {"type": "Sequence", "pretokenizers": [
          {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
          {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}
        """;

    [Fact]
    public void Load_Llama3Layout_EncodesWithItsRegexAndSavesItBack()
    {
        Shared.Value.Save(_dir);
        var path = Path.Combine(_dir, "tokenizer.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["pre_tokenizer"] = System.Text.Json.Nodes.JsonNode.Parse(Llama3PreTokenizer);
        json["model"]!["ignore_merges"] = true;
        File.WriteAllText(path, json.ToJsonString());
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}""");

        var tok = ByteBpeTokenizer.Load(_dir);
        var rng = new Random(11);
        for (var n = 0; n < 200; n++)
        {
            var text = RandomString(rng, rng.Next(0, 40));
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
        }
        Assert.Equal(tok.TokenToId(SpecialTokens.Pad), tok.PadId);

        var resaved = Path.Combine(_dir, "resaved");
        tok.Save(resaved);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(resaved, "tokenizer.json")));
        Assert.Equal("Split", doc.RootElement.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0].GetProperty("type").GetString());
        Assert.True(doc.RootElement.GetProperty("model").GetProperty("ignore_merges").GetBoolean());
        Assert.Equal(File.ReadAllText(Path.Combine(_dir, "tokenizer_config.json")), File.ReadAllText(Path.Combine(resaved, "tokenizer_config.json")));
        var again = ByteBpeTokenizer.Load(resaved);
        Assert.Equal(tok.Encode("What is 12345 + 6?"), again.Encode("What is 12345 + 6?"));
    }

    [Fact]
    public void Load_NonSpecialAddedToken_MatchedInTextDecodedAsTextNotSpecial()
    {
        Shared.Value.Save(_dir);
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"special\": true", "\"special\": false"));
        var tok = ByteBpeTokenizer.Load(_dir);
        var eot = tok.TokenToId(SpecialTokens.EndOfTurn)!.Value;
        Assert.False(tok.IsSpecial(eot));
        Assert.Equal([eot], tok.EncodeWithSpecials(SpecialTokens.EndOfTurn));
        Assert.DoesNotContain(eot, tok.Encode(SpecialTokens.EndOfTurn));
        Assert.Equal("a" + SpecialTokens.EndOfTurn, tok.Decode([.. tok.Encode("a"), eot]));
    }

    [Fact]
    public void Load_MalformedJson_ErrorNamesFile()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, "{\"model\": ");
        var e = Assert.Throws<InvalidDataException>(() => ByteBpeTokenizer.Load(_dir));
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void Train_AboutOneMegabyte_ReachesTargetVocab()
    {
        // Not a timed assertion (speed targets live in bench/): checks a realistic size completes and reports it.
        var corpus = TestCorpus.Lines(8_000, seed: 3).ToList();
        var sw = Stopwatch.StartNew();
        var tok = ByteBpeTokenizer.Train(corpus, 1024);
        sw.Stop();
        Assert.Equal(1024, tok.VocabSize);
        Console.Error.WriteLine($"BPE train: {corpus.Sum(Encoding.UTF8.GetByteCount) / 1e6:F2} MB -> vocab {tok.VocabSize} in {sw.Elapsed.TotalSeconds:F2}s");
    }

    internal static string RandomString(Random rng, int length)
    {
        // Mix of ASCII, digits, whitespace, Latin-1, CJK, and astral-plane emoji (surrogate pairs, never split).
        var sb = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            switch (rng.Next(7))
            {
                case 0: sb.Append((char)rng.Next(32, 127)); break;
                case 1: sb.Append((char)('0' + rng.Next(10))); break;
                case 2: sb.Append(" \n\t\r"[rng.Next(4)]); break;
                case 3: sb.Append((char)rng.Next(0xA0, 0x250)); break;
                case 4: sb.Append((char)rng.Next(0x4E00, 0x9FFF)); break;
                case 5: sb.Append(char.ConvertFromUtf32(rng.Next(0x1F300, 0x1FAFF))); break;
                default: sb.Append((char)rng.Next(0, 32)); break;
            }
        }
        return sb.ToString();
    }
}
