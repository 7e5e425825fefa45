using System.CommandLine;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using PostTrain.Pretrain.Corpus;

namespace PostTrain.Cli.Commands;

/// <summary>
/// <c>posttrain tokenizer train --corpus DIR|FILE --vocab-size N --out DIR</c>: a SentencePiece-compatible BPE
/// (split digits, byte fallback) written as <c>DIR/tokenizer.model</c>, from a prepared corpus or .jsonl/.txt files.
/// </summary>
public static class TokenizerCommand
{
    public static Command Create()
    {
        var d = new SentencePieceBpeOptions();
        var corpus = new Option<string>("--corpus") { Description = "A prepared corpus directory (corpus.jsonl, else every .jsonl/.txt in it) or one .jsonl/.txt file", Required = true };
        var vocab = new Option<int>("--vocab-size") { Description = "Pieces in all (3 specials + 256 bytes + characters + merges)", DefaultValueFactory = _ => d.VocabSize };
        var output = new Option<string>("--out") { Description = "Output directory for tokenizer.model", Required = true };
        var json = CliOptions.Json();
        var train = new Command("train", "Train a SentencePiece-compatible BPE tokenizer (split digits, byte fallback)") { corpus, vocab, output, json };
        train.SetAction((p, ct) => Task.FromResult(Run(p.GetValue(corpus)!, d with { VocabSize = p.GetValue(vocab) }, p.GetValue(output)!, p.GetValue(json), ct)));
        return new Command("tokenizer", "Tokenizers: train") { train };
    }

    private static int Run(string corpus, SentencePieceBpeOptions options, string outDir, bool json, CancellationToken cancellationToken)
    {
        try { options.Validate(); }
        catch (ArgumentException e) { return Output.Error(e.Message, CliApp.Usage); }
        var files = Directory.Exists(corpus)
            ? File.Exists(Path.Combine(corpus, CorpusPreparer.CorpusFile)) ? [Path.Combine(corpus, CorpusPreparer.CorpusFile)]
              : Directory.EnumerateFiles(corpus).Where(f => Path.GetExtension(f) is ".jsonl" or ".txt").Order(StringComparer.Ordinal).ToList()
            : new List<string> { corpus };
        if (files.Count == 0) return Output.Error($"{corpus}: no corpus.jsonl, .jsonl or .txt file in the directory");
        try
        {
            var reader = new CorpusReader();
            var pieces = SentencePieceBpeTrainer.Train(files.SelectMany(f => reader.Read(f)).Select(doc => doc.Text), options, cancellationToken);
            var path = Path.Combine(outDir, SentencePieceTokenizer.ModelFile);
            AtomicFile.WriteAllBytes(path, SentencePieceModelWriter.Write(pieces, options));
            if (json) Output.WriteJson(new { model = Path.GetFullPath(path), vocabSize = pieces.Count, bytesRead = reader.BytesRead });
            else Console.Out.WriteLine($"{pieces.Count} pieces ({reader.BytesRead / 1e6:F1} MB read) -> {path}");
            return CliApp.Success;
        }
        catch (OperationCanceledException) { return Output.Error("cancelled; nothing was written"); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Output.Error(e.Message);
        }
    }
}
