namespace PostTrain.Pretrain.Scaling;

/// <summary>A fitted law and how well it fits the runs it came from.</summary>
/// <param name="Law">The fitted parameters.</param>
/// <param name="Observations">The runs the fit used.</param>
/// <param name="RmsLogResidual">Root mean square of log(predicted) − log(observed) over the runs: 0.01 is a 1% typical miss.</param>
public sealed record ScalingLawFit(ScalingLaw Law, IReadOnlyList<ScalingObservation> Observations, double RmsLogResidual);
