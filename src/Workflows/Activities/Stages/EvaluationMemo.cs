using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PostTrain.Model.Checkpoints;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

/// <summary>
/// Greedy responses and reward-model scores of held-out prompts, kept under <c>HOME/cache/evaluate/</c>. Both are pure
/// functions of their inputs (checkpoint, prompts, generation settings; reward model, responses), and each round's
/// baseline is the candidate the previous round selected, so a round reads its baseline's figures instead of generating
/// and scoring them again (one pass in five with the default candidates).
/// </summary>
public sealed class EvaluationMemo(string home, string setting)
{
    private readonly string _dir = Path.Combine(new PostTrainHome(home).CacheDirectory, "evaluate");

    /// <summary>Entries read instead of computed in this activity.</summary>
    public int Hits { get; private set; }

    /// <summary>The greedy responses of <paramref name="checkpointHash"/> on this memo's prompts and settings.</summary>
    public IReadOnlyList<string> Responses(string checkpointHash, Func<IReadOnlyList<string>> generate) =>
        GetOrAdd(Key("responses", [checkpointHash, setting]), generate);

    /// <summary>The scores of <paramref name="responses"/> by <paramref name="rewardModelHash"/>, one per response, in order.</summary>
    public IReadOnlyList<double> Scores(string rewardModelHash, IReadOnlyList<string> responses, Func<IReadOnlyList<double>> score) =>
        GetOrAdd(Key("scores", [rewardModelHash, setting, .. responses]), score);

    private IReadOnlyList<T> GetOrAdd<T>(string key, Func<IReadOnlyList<T>> compute)
    {
        var path = Path.Combine(_dir, key + ".json");
        if (File.Exists(path))
        {
            try
            {
                if (JsonSerializer.Deserialize<List<T>>(File.ReadAllText(path)) is { } cached)
                {
                    Hits++;
                    return cached;
                }
            }
            catch (JsonException)
            {
                // A damaged entry is recomputed and rewritten below: the memo only saves time, it never decides a figure.
            }
        }
        var value = compute();
        Directory.CreateDirectory(_dir);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value));
        return value;
    }

    // Parts are length-prefixed so no two different part lists hash alike.
    private static string Key(string kind, IReadOnlyList<string> parts)
    {
        var text = new StringBuilder(kind);
        foreach (var p in parts) text.Append('\n').Append(p.Length).Append(':').Append(p);
        return kind + "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
