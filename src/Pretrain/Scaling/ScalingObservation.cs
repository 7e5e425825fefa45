namespace PostTrain.Pretrain.Scaling;

/// <summary>One small pretraining run: its non-embedding parameters N, training tokens D and final held-out loss (nats/token).</summary>
public sealed record ScalingObservation(double Parameters, double Tokens, double Loss);
