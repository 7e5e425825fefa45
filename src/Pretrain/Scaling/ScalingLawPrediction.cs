using System.Text.Json;

namespace PostTrain.Pretrain.Scaling;

/// <summary>A fit from small runs and what it predicts for a larger one, stated before that run exists.</summary>
/// <param name="Fit">The law fitted to the grid of small runs.</param>
/// <param name="TargetParameters">Non-embedding parameters N of the larger run.</param>
/// <param name="TargetTokens">Training tokens D of the larger run.</param>
public sealed record ScalingLawPrediction(ScalingLawFit Fit, long TargetParameters, long TargetTokens)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The law's loss at (<see cref="TargetParameters"/>, <see cref="TargetTokens"/>).</summary>
    public double PredictedLoss => Fit.Law.Predict(TargetParameters, TargetTokens);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ScalingLawPrediction FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<ScalingLawPrediction>(json, Json) is { Fit.Law: not null } p
                ? p : throw new InvalidDataException($"{source}: no scaling-law fit in it");
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a scaling-law prediction: {e.Message}", e); }
    }
}
