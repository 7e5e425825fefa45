using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;
using PostTrain.Model.Training;
using PostTrain.Sampling;
using static TorchSharp.torch;

namespace PostTrain.Cli.Commands;

/// <summary><c>posttrain generate</c>: continues one prompt with a checkpoint (greedy, or temperature/top-p sampling) through
/// the one decoder, <see cref="Sampler"/> with N = 1, so its samples are those the pipeline draws for the same seed.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint: a Hugging Face directory, sha256:… or a name from `posttrain model import`", Required = true };
        var home = CliOptions.Home();
        var prompt = new Option<string>("--prompt") { Description = "User message; goes through the chat template" };
        var promptIds = new Option<string>("--prompt-ids") { Description = "Raw prompt token ids, comma-separated (e.g. 1,2,3)" };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Generation budget", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0.0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass (1 = off)", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<long>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print prompt ids, generated ids and their log-probabilities as JSON" };
        var device = CliOptions.Device("cpu | cuda");
        var command = new Command("generate", "Generate from a checkpoint") { model, prompt, promptIds, maxNew, temperature, topP, seed, json, device, home };
        command.SetAction((parse, _) => Task.FromResult(Run(
            parse.GetValue(model)!, parse.GetValue(prompt), parse.GetValue(promptIds),
            new SamplingOptions { SamplesPerPrompt = 1, MaxNewTokens = parse.GetValue(maxNew), Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), Seed = parse.GetValue(seed) },
            parse.GetValue(json), parse.GetValue(device)!, parse.GetValue(home))));
        return command;
    }

    public static int Run(string modelReference, string? prompt, string? promptIds, SamplingOptions options, bool json, string deviceName, string? homeOption = null)
    {
        if ((prompt is null) == (promptIds is null)) return Fail(2, "pass exactly one of --prompt TEXT or --prompt-ids 1,2,3");
        if (options.MaxNewTokens < 1) return Fail(2, $"--max-new-tokens: {options.MaxNewTokens}, expected >= 1");
        if (!(options.Temperature >= 0) || !double.IsFinite(options.Temperature)) return Fail(2, $"--temperature: {options.Temperature}, expected a finite value >= 0 (0 = greedy)");
        if (!(options.TopP is > 0 and <= 1)) return Fail(2, $"--top-p: {options.TopP}, expected in (0, 1]");
        Device device;
        try { device = DeviceOptions.Parse(deviceName); }
        catch (ArgumentException e) { return Fail(2, $"--device: {e.Message}"); }

        string modelDir;
        try { modelDir = Directory.Exists(modelReference) ? modelReference : ModelReferences.Catalog(homeOption).Locate(modelReference, "--model"); }
        catch (ArgumentException e) { return Fail(1, e.Message); }
        LoadedCheckpoint checkpoint;
        try { checkpoint = Checkpoint.Load(modelDir, device); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return Fail(1, e.Message); }
        using var network = checkpoint.Model;
        network.eval();
        var tokenizer = checkpoint.Tokenizer;
        ChatTemplate? template = null;
        if (tokenizer is not null)
        {
            try { template = new ChatTemplate(tokenizer); }
            catch (ArgumentException) { template = null; } // e.g. a Llama 2 SentencePiece vocabulary: plain BOS + text
            catch (PostTrain.Model.Tokenization.Jinja.JinjaException e) { return Fail(1, e.Message); }
        }

        int[] ids;
        if (prompt is not null)
        {
            if (tokenizer is null)
                return Fail(2, $"{modelDir}: checkpoint has no tokenizer files (tokenizer.json or tokenizer.model), so --prompt cannot be encoded; pass --prompt-ids");
            ids = template is not null ? template.EncodePrompt([ChatMessage.User(prompt)]).Ids : [tokenizer.BosId, .. tokenizer.Encode(prompt)];
        }
        else
        {
            var parts = promptIds!.Split(',', StringSplitOptions.TrimEntries);
            ids = new int[parts.Length];
            for (var i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]))
                    return Fail(2, $"--prompt-ids: item {i + 1} is '{parts[i]}', expected an integer token id");
                if ((uint)ids[i] >= (uint)checkpoint.Config.VocabSize)
                    return Fail(2, $"--prompt-ids: item {i + 1} is {ids[i]}, expected an id in [0, {checkpoint.Config.VocabSize}) (vocab_size of {modelDir})");
            }
        }
        if (ids.Length >= checkpoint.Config.MaxPositionEmbeddings)
            return Fail(2, $"prompt has {ids.Length} tokens, expected fewer than max_position_embeddings {checkpoint.Config.MaxPositionEmbeddings} of {modelDir}");

        IReadOnlyCollection<int> stops = template is not null ? template.StopIds.ToArray()
            : tokenizer is not null ? [tokenizer.EosId]
            : checkpoint.Config.EosTokenId is { } eos ? [eos] : [];
        var result = new Sampler(network, options with { StopIds = stops.ToArray() }, template).Generate([new TokenPrompt("prompt", ids)]).Sequences[0];
        var text = template is not null ? template.DecodeResponse(result.TokenIds) : tokenizer?.Decode(result.TokenIds);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                prompt_ids = ids,
                token_ids = result.TokenIds,
                logprobs = result.LogProbs,
                stopped = result.Stopped,
                text,
            }));
        }
        else
        {
            Console.WriteLine(text ?? string.Join(",", result.TokenIds));
        }
        return 0;
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
