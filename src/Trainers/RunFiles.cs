using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using PostTrain.Model.Checkpoints;
using PostTrain.Model.Tokenization;

namespace PostTrain.Trainers;

/// <summary>What the on-disk entry points of the trainers share: dataset identity, tokenizer lookup, checkpoint metadata.</summary>
internal static class RunFiles
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>SHA-256 (lower-case hex) of a dataset file's bytes: the key its reference log-probs are stored under.</summary>
    public static string Sha256(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: dataset file does not exist", path);
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static ITokenizer RequireTokenizer(LoadedCheckpoint checkpoint, string dir) =>
        checkpoint.Tokenizer ?? throw new InvalidDataException($"{dir}: checkpoint has no tokenizer files; SFT and DPO template chats with the policy's tokenizer");

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static string MetricsJson(IReadOnlyDictionary<string, double> metrics) =>
        JsonSerializer.Serialize(metrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value), Json);
}
