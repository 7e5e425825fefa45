using System.Text.Json;
using System.Text.Json.Serialization;

namespace PostTrain.Trainers.Evaluation;

/// <summary>The round's choice and every figure behind it, as the workflow layer stores it (JSON).</summary>
/// <param name="Best">Name of the chosen candidate.</param>
/// <param name="BestCheckpointDir">Its checkpoint.</param>
/// <param name="Rule">The rule that chose it.</param>
/// <param name="Reason">One sentence naming the deciding figure.</param>
/// <param name="Ranking">All candidates, best first.</param>
/// <param name="BaselineCheckpointDir">The current sampler the win rates are against, when known.</param>
/// <param name="BaselineExactMatch">The baseline's own exact-match accuracy, when a checker exists.</param>
/// <param name="BaselineExactMatchByKind">The baseline's exact match per task kind.</param>
/// <param name="FewShots">k of the k-shot figures (<see cref="CandidateEvaluation.FewShotExactMatch"/>); 0 = none measured.</param>
/// <param name="BaselineFewShotExactMatch">The baseline's k-shot exact match, when measured.</param>
public sealed record SelectionResult(
    string Best,
    string BestCheckpointDir,
    SelectionRule Rule,
    string Reason,
    IReadOnlyList<CandidateEvaluation> Ranking,
    string? BaselineCheckpointDir = null,
    double? BaselineExactMatch = null,
    IReadOnlyDictionary<string, double>? BaselineExactMatchByKind = null,
    int FewShots = 0,
    double? BaselineFewShotExactMatch = null)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SelectionResult FromJson(string json, string source = "selection")
    {
        try
        {
            return JsonSerializer.Deserialize<SelectionResult>(json, Json) ?? throw new InvalidDataException($"{source}: empty selection result");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a selection result: {e.Message}", e);
        }
    }
}
