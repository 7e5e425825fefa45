namespace PostTrain.Trainers.Distillation;

/// <summary>
/// Distillation options: the shared optimisation options of <see cref="TrainerOptions"/> plus how much of the teacher's
/// distribution is kept. The loss is forward KL on the teacher's top-k (<see cref="DistillationLoss"/>).
/// </summary>
public sealed record DistillationOptions : TrainerOptions
{
    /// <summary>int, default 16. Teacher tokens kept per position. Most of a trained model's mass sits in a handful of
    /// tokens, so a small k keeps the cache small (k ids and log-probs per response token) and the renormalised target
    /// close to the full distribution.</summary>
    public int TopK { get; init; } = 16;

    /// <summary>Throws naming the field, the actual value and what is expected.</summary>
    public DistillationOptions Validate()
    {
        ValidateShared();
        Check(TopK is >= 1 and <= 1024, nameof(TopK), TopK, "in [1, 1024]");
        return this;
    }
}
