using System.Globalization;
using PostTrain.Model.Data;

namespace PostTrain.Sampling.Rejection;

/// <summary>
/// A pair the verifier decided (right over wrong) may have the RM scoring the wrong answer higher. Its scores then
/// become the verifier's labels (1 over 0), as the annotator writes them, and the RM's go to provenance, so the pair
/// stays valid preference data (chosen never scored below rejected).
/// </summary>
public static class VerifierLabels
{
    public static PreferencePair Apply(PreferencePair pair, string annotator = "checker")
    {
        ArgumentNullException.ThrowIfNull(pair);
        if (pair.ScoreChosen is not { } c || pair.ScoreRejected is not { } r || c >= r) return pair;
        var source = new Dictionary<string, string>(pair.Source ?? new Dictionary<string, string>())
        {
            ["rm_score_chosen"] = c.ToString("R", CultureInfo.InvariantCulture),
            ["rm_score_rejected"] = r.ToString("R", CultureInfo.InvariantCulture),
            ["annotator"] = annotator,
        };
        return pair with { ScoreChosen = 1, ScoreRejected = 0, Source = source };
    }
}
