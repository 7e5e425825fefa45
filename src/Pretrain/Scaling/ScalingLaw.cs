namespace PostTrain.Pretrain.Scaling;

/// <summary>
/// The Chinchilla loss law L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022, eq. 2): E is the irreducible loss of
/// the data, A/N^α what a model of N (non-embedding) parameters falls short of an infinite one, B/D^β what D training
/// tokens fall short of infinite data.
/// </summary>
public sealed record ScalingLaw(double E, double A, double Alpha, double B, double Beta)
{
    /// <summary>Predicted loss (nats/token) of a model with <paramref name="parameters"/> trained on <paramref name="tokens"/>.</summary>
    public double Predict(double parameters, double tokens)
    {
        if (!(parameters > 0) || !(tokens > 0))
            throw new ArgumentOutOfRangeException(parameters > 0 ? nameof(tokens) : nameof(parameters), $"parameters {parameters} and tokens {tokens} must both be > 0");
        return E + A * Math.Pow(parameters, -Alpha) + B * Math.Pow(tokens, -Beta);
    }

    /// <summary>"L(N, D) = 1.69 + 406/N^0.34 + 411/D^0.28".</summary>
    public override string ToString() =>
        FormattableString.Invariant($"L(N, D) = {E:G4} + {A:G4}/N^{Alpha:G3} + {B:G4}/D^{Beta:G3}");
}
