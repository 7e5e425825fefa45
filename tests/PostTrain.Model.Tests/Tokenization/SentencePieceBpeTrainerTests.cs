using System.Diagnostics;
using System.Text.Json;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Tokenization;

public sealed class SentencePieceBpeTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("posttrain-spm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<string> Corpus()
    {
        var random = new Random(3);
        var words = "the quick brown fox jumps over a lazy dog while seven cats sleep near warm fires in 2024 and 1999 people counted 12345 stars café naïve".Split(' ');
        return Enumerable.Range(0, 1500).Select(i => string.Join(' ', Enumerable.Range(0, 5 + i % 20).Select(_ => words[random.Next(words.Length)]))).ToList();
    }

    [Fact]
    public void Train_Corpus_SpecialsBytesThenMergesWithoutDigitsOrInnerSpaces()
    {
        var pieces = SentencePieceBpeTrainer.Train(Corpus(), new SentencePieceBpeOptions { VocabSize = 500 });

        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], pieces.Take(4).Select(p => p.Piece));
        Assert.Equal("<0xFF>", pieces[258].Piece);
        Assert.All(pieces.Skip(3).Take(256), p => Assert.Equal(SentencePieceEntry.Byte, p.Type));
        var learned = pieces.Skip(SentencePieceBpeTrainer.FixedPieces).ToList();
        Assert.Contains(learned, p => p.Piece == "▁quick");
        Assert.DoesNotContain(learned, p => p.Piece.Length > 1 && p.Piece.Any(char.IsDigit));
        Assert.DoesNotContain(learned, p => p.Piece.IndexOf('▁', 1) > 0);
        Assert.Equal(learned.Count, learned.Select(p => p.Piece).Distinct(StringComparer.Ordinal).Count());
        Assert.True(learned.Zip(learned.Skip(1)).All(p => p.First.Score > p.Second.Score), "scores must fall with the rank");
    }

    [Fact]
    public void WrittenModel_LoadsInSentencePieceAndMicrosoftMl_SameIds()
    {
        var options = new SentencePieceBpeOptions { VocabSize = 350 };
        var path = Path.Combine(_dir, SentencePieceTokenizer.ModelFile);
        File.WriteAllBytes(path, SentencePieceModelWriter.Write(SentencePieceBpeTrainer.Train(Corpus(), options), options));
        string[] samples = ["the quick brown fox 2024", "seven cats counted 12345 stars", "café €5 東京!", "unseen words  with two spaces"];

        var ml = SentencePieceTokenizer.Load(path);
        var python = Python(path, samples);

        for (var i = 0; i < samples.Length; i++)
        {
            Assert.Equal(python[i].Ids, ml.Encode(samples[i]));
            Assert.Equal(samples[i], python[i].Decoded);
        }
        Assert.Equal(["▁", "2", "0", "2", "4"], python[0].Pieces[^5..]);
        Assert.Contains("<0xE2>", python[2].Pieces); // '€' was never seen: byte fallback
    }

    private sealed record PythonResult(int[] Ids, string[] Pieces, string Decoded);

    /// <summary>Google's sentencepiece (python3-sentencepiece, installed by build/setup.sh) as the reference.</summary>
    private static PythonResult[] Python(string model, string[] samples)
    {
        const string Script = """
            import json, sys, sentencepiece as spm
            sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
            out = []
            for s in json.loads(sys.stdin.read()):
                ids = sp.encode(s)
                out.append({"Ids": ids, "Pieces": [sp.id_to_piece(i) for i in ids], "Decoded": sp.decode(ids)})
            print(json.dumps(out))
            """;
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add(model);
        using var process = Process.Start(psi)!;
        process.StandardInput.Write(JsonSerializer.Serialize(samples));
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python3 sentencepiece failed (apt-get install python3-sentencepiece): {stderr}");
        return JsonSerializer.Deserialize<PythonResult[]>(stdout)!;
    }
}
