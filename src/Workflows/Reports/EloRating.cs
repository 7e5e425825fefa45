namespace PostTrain.Workflows.Reports;

/// <summary>One judged head-to-head tally between two models (e.g. two rounds' selected checkpoints).</summary>
/// <param name="A">Name of the first model.</param>
/// <param name="B">Name of the second model.</param>
/// <param name="WinsA">Comparisons A won.</param>
/// <param name="WinsB">Comparisons B won.</param>
/// <param name="Ties">Comparisons judged equal; each counts half a win to both sides.</param>
public sealed record PairwiseResult(string A, string B, double WinsA, double WinsB, double Ties = 0);

/// <summary>
/// Elo ratings from pairwise outcomes, fitted as chatbot arenas now do: the maximum-likelihood Bradley–Terry
/// strengths (Hunter 2004's MM algorithm) on the Elo scale, rather than order-dependent online Elo updates.
/// </summary>
public static class EloRating
{
    /// <summary>Elo points per factor of 10 in odds, and the mean rating.</summary>
    public const double Scale = 400, Base = 1000;

    /// <summary>
    /// Ratings for every model named in <paramref name="results"/>, mean <see cref="Base"/>.
    /// A virtual half win each way between every compared pair keeps a model that never lost from an infinite rating.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Fit(IReadOnlyList<PairwiseResult> results, int iterations = 2000)
    {
        var names = results.SelectMany(r => new[] { r.A, r.B }).Distinct().Order(StringComparer.Ordinal).ToArray();
        var index = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i);
        var n = names.Length;
        var wins = new double[n, n]; // wins[i, j] = times i beat j, ties and the prior split evenly
        foreach (var r in results)
        {
            if (r.WinsA < 0 || r.WinsB < 0 || r.Ties < 0)
                throw new ArgumentException($"pairwise result {r.A} vs {r.B}: counts must be ≥ 0, got {r.WinsA}/{r.WinsB}/{r.Ties}");
            var (a, b) = (index[r.A], index[r.B]);
            wins[a, b] += r.WinsA + r.Ties / 2 + 0.5;
            wins[b, a] += r.WinsB + r.Ties / 2 + 0.5;
        }
        var p = Enumerable.Repeat(1.0, n).ToArray();
        for (var it = 0; it < iterations; it++)
        {
            var next = new double[n];
            for (var i = 0; i < n; i++)
            {
                double w = 0, denom = 0;
                for (var j = 0; j < n; j++)
                {
                    if (i == j) continue;
                    var games = wins[i, j] + wins[j, i];
                    if (games == 0) continue;
                    w += wins[i, j];
                    denom += games / (p[i] + p[j]);
                }
                next[i] = denom > 0 ? w / denom : p[i];
            }
            var logMean = next.Average(Math.Log);
            var change = 0.0;
            for (var i = 0; i < n; i++)
            {
                var v = next[i] / Math.Exp(logMean);
                change = Math.Max(change, Math.Abs(v - p[i]));
                p[i] = v;
            }
            if (change < 1e-12) break;
        }
        return names.Select((name, i) => (name, rating: Base + Scale * Math.Log10(p[i])))
            .ToDictionary(x => x.name, x => x.rating);
    }

    /// <summary>Expected score of a player rated <paramref name="ra"/> against one rated <paramref name="rb"/>.</summary>
    public static double Expected(double ra, double rb) => 1 / (1 + Math.Pow(10, (rb - ra) / Scale));
}
