namespace PostTrain.Pretrain.Scaling;

/// <summary>
/// Fits <see cref="ScalingLaw"/> to small runs as Hoffmann et al. (2022, sec. D.2) do: on log-loss residuals with a
/// Huber loss, so a diverged run does not bend the law. The fit has two stages. For each (α, β) on a grid the law is
/// linear in (E, A, B), solved by non-negative weighted least squares (weights 1/L, so a residual is relative, as a
/// log residual); then Levenberg–Marquardt with iteratively reweighted Huber weights refines all five parameters
/// from the best grid cell. N and D are divided by their geometric means first, so A and B stay near the losses in size
/// and the normal equations stay well conditioned even for N^-1.5 at N = 10^9.
/// </summary>
public static class ScalingLawFitter
{
    public static ScalingLawFit Fit(IReadOnlyList<ScalingObservation> observations, ScalingLawFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var o = (options ?? new ScalingLawFitOptions()).Validate();
        Check(observations);
        var n = observations.Count;
        var n0 = GeometricMean(observations.Select(x => x.Parameters));
        var d0 = GeometricMean(observations.Select(x => x.Tokens));
        var lnU = observations.Select(x => Math.Log(x.Parameters / n0)).ToArray();
        var lnV = observations.Select(x => Math.Log(x.Tokens / d0)).ToArray();
        var loss = observations.Select(x => x.Loss).ToArray();

        // Stage 1: the exponent grid, (E, A', B') by non-negative least squares in each cell.
        var best = (Error: double.PositiveInfinity, Theta: Array.Empty<double>());
        var cells = (int)Math.Round((o.ExponentMax - o.ExponentMin) / o.ExponentStep);
        for (var i = 0; i <= cells; i++)
        for (var j = 0; j <= cells; j++)
        {
            double alpha = o.ExponentMin + i * o.ExponentStep, beta = o.ExponentMin + j * o.ExponentStep;
            var x = new double[n][];
            for (var k = 0; k < n; k++) x[k] = [1, Math.Exp(-alpha * lnU[k]), Math.Exp(-beta * lnV[k])];
            var (coef, error) = NonNegativeLeastSquares(x, loss);
            if (error < best.Error) best = (error, [coef[0], coef[1], alpha, coef[2], beta]);
        }

        // Stage 2: Levenberg–Marquardt on θ = (E, A', α, B', β), Huber weights recomputed every iteration (IRLS).
        var theta = best.Theta;
        var objective = HuberObjective(theta, lnU, lnV, loss, o.HuberDelta);
        var lambda = 1e-3;
        for (var iteration = 0; iteration < o.MaxIterations && lambda < 1e12; iteration++)
        {
            var (jtj, jtr) = NormalEquations(theta, lnU, lnV, loss, o.HuberDelta);
            var improved = false;
            while (lambda < 1e12)
            {
                var damped = new double[5, 5];
                for (var a = 0; a < 5; a++)
                for (var b = 0; b < 5; b++)
                    damped[a, b] = jtj[a, b] + (a == b ? lambda * Math.Max(jtj[a, a], 1e-12) : 0);
                var step = Solve(damped, jtr.Select(v => -v).ToArray());
                var candidate = step is null ? null : Project(theta.Zip(step, (t, s) => t + s).ToArray(), o);
                var value = candidate is null ? double.PositiveInfinity : HuberObjective(candidate, lnU, lnV, loss, o.HuberDelta);
                if (value < objective)
                {
                    var relative = (objective - value) / Math.Max(objective, 1e-300);
                    (theta, objective, lambda, improved) = (candidate!, value, Math.Max(lambda / 10, 1e-12), relative > 1e-14);
                    break;
                }
                lambda *= 10;
            }
            if (!improved) break;
        }

        var law = new ScalingLaw(theta[0], theta[1] * Math.Pow(n0, theta[2]), theta[2], theta[3] * Math.Pow(d0, theta[4]), theta[4]);
        var rms = Math.Sqrt(observations.Average(x => Math.Pow(Math.Log(law.Predict(x.Parameters, x.Tokens) / x.Loss), 2)));
        return new ScalingLawFit(law, observations, rms);
    }

    private static void Check(IReadOnlyList<ScalingObservation> observations)
    {
        for (var i = 0; i < observations.Count; i++)
        {
            var x = observations[i];
            if (!(x.Parameters > 0) || !(x.Tokens > 0) || !(x.Loss > 0) || !double.IsFinite(x.Parameters) || !double.IsFinite(x.Tokens) || !double.IsFinite(x.Loss))
                throw new ArgumentException($"observation {i}: parameters {x.Parameters}, tokens {x.Tokens}, loss {x.Loss}; expected all finite and > 0", nameof(observations));
        }
        var sizes = observations.Select(x => x.Parameters).Distinct().Count();
        var tokens = observations.Select(x => x.Tokens).Distinct().Count();
        if (observations.Count < 5 || sizes < 2 || tokens < 2)
            throw new ArgumentException($"{observations.Count} runs with {sizes} model sizes and {tokens} token counts; a fit of 5 parameters needs at least 5 runs over at least 2 sizes and 2 token counts", nameof(observations));
    }

    private static double GeometricMean(IEnumerable<double> values) => Math.Exp(values.Average(Math.Log));

    private static double[] Predictions(double[] t, double[] lnU, double[] lnV) =>
        lnU.Select((u, k) => t[0] + t[1] * Math.Exp(-t[2] * u) + t[3] * Math.Exp(-t[4] * lnV[k])).ToArray();

    private static double HuberObjective(double[] theta, double[] lnU, double[] lnV, double[] loss, double delta)
    {
        var pred = Predictions(theta, lnU, lnV);
        var sum = 0.0;
        for (var k = 0; k < loss.Length; k++)
        {
            if (!(pred[k] > 0)) return double.PositiveInfinity;
            var r = Math.Abs(Math.Log(pred[k] / loss[k]));
            sum += r <= delta ? 0.5 * r * r : delta * (r - 0.5 * delta);
        }
        return sum;
    }

    /// <summary>JᵀWJ and JᵀWr of the log residuals, W the Huber weights min(1, δ/|r|).</summary>
    private static (double[,] JtJ, double[] JtR) NormalEquations(double[] t, double[] lnU, double[] lnV, double[] loss, double delta)
    {
        var jtj = new double[5, 5];
        var jtr = new double[5];
        var pred = Predictions(t, lnU, lnV);
        for (var k = 0; k < loss.Length; k++)
        {
            var r = Math.Log(pred[k] / loss[k]);
            var w = Math.Abs(r) <= delta ? 1 : delta / Math.Abs(r);
            double pu = Math.Exp(-t[2] * lnU[k]), pv = Math.Exp(-t[4] * lnV[k]);
            // d log(pred) / dθ
            double[] g = [1 / pred[k], pu / pred[k], -t[1] * pu * lnU[k] / pred[k], pv / pred[k], -t[3] * pv * lnV[k] / pred[k]];
            for (var a = 0; a < 5; a++)
            {
                jtr[a] += w * g[a] * r;
                for (var b = 0; b < 5; b++) jtj[a, b] += w * g[a] * g[b];
            }
        }
        return (jtj, jtr);
    }

    /// <summary>Keeps E, A, B non-negative and the exponents inside the searched range.</summary>
    private static double[]? Project(double[] t, ScalingLawFitOptions o)
    {
        if (t.Any(v => !double.IsFinite(v))) return null;
        return [Math.Max(t[0], 0), Math.Max(t[1], 0), Math.Clamp(t[2], o.ExponentMin, o.ExponentMax), Math.Max(t[3], 0), Math.Clamp(t[4], o.ExponentMin, o.ExponentMax)];
    }

    /// <summary>min Σ ((x·c − y)/y)² over c ≥ 0, by trying every support set (3 columns: 7 sets).</summary>
    private static (double[] Coefficients, double Error) NonNegativeLeastSquares(double[][] x, double[] y)
    {
        var m = x[0].Length;
        var best = (Coefficients: new double[m], Error: double.PositiveInfinity);
        for (var mask = 1; mask < 1 << m; mask++)
        {
            var cols = Enumerable.Range(0, m).Where(c => (mask >> c & 1) == 1).ToArray();
            var ata = new double[cols.Length, cols.Length];
            var aty = new double[cols.Length];
            for (var k = 0; k < y.Length; k++)
            {
                var w = 1 / (y[k] * y[k]);
                for (var a = 0; a < cols.Length; a++)
                {
                    aty[a] += w * x[k][cols[a]] * y[k];
                    for (var b = 0; b < cols.Length; b++) ata[a, b] += w * x[k][cols[a]] * x[k][cols[b]];
                }
            }
            var sol = Solve(ata, aty);
            if (sol is null || sol.Any(v => v < 0)) continue;
            var c = new double[m];
            for (var a = 0; a < cols.Length; a++) c[cols[a]] = sol[a];
            var error = 0.0;
            for (var k = 0; k < y.Length; k++)
            {
                var r = (x[k].Select((v, i) => v * c[i]).Sum() - y[k]) / y[k];
                error += r * r;
            }
            if (error < best.Error) best = (c, error);
        }
        return best;
    }

    /// <summary>Gaussian elimination with partial pivoting; null when the matrix is singular.</summary>
    private static double[]? Solve(double[,] matrix, double[] rhs)
    {
        var n = rhs.Length;
        var a = (double[,])matrix.Clone();
        var b = (double[])rhs.Clone();
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < n; row++)
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col])) pivot = row;
            if (!(Math.Abs(a[pivot, col]) > 1e-300)) return null;
            if (pivot != col)
            {
                for (var k = 0; k < n; k++) (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
                (b[col], b[pivot]) = (b[pivot], b[col]);
            }
            for (var row = col + 1; row < n; row++)
            {
                var f = a[row, col] / a[col, col];
                for (var k = col; k < n; k++) a[row, k] -= f * a[col, k];
                b[row] -= f * b[col];
            }
        }
        var x = new double[n];
        for (var row = n - 1; row >= 0; row--)
        {
            var s = b[row];
            for (var k = row + 1; k < n; k++) s -= a[row, k] * x[k];
            x[row] = s / a[row, row];
        }
        return x.All(double.IsFinite) ? x : null;
    }
}
