namespace PostTrain.Trainers.Distillation;

/// <summary>What a distillation run measured. Losses are KL(teacher top-k ‖ student) in nats per response token.</summary>
/// <param name="TrainLoss">Token-weighted mean KL over the last epoch.</param>
/// <param name="InitialLoss">Mean KL of the first step, before any update: the student's distance from the teacher at the start.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="TeacherForwardPasses">Teacher batches forwarded for the top-k; 0 when the cache was read.</param>
/// <param name="LossHistory">Loss of each step, in order.</param>
/// <param name="CheckpointDir">Where the student was saved, when it was.</param>
public sealed record DistillationResult(double TrainLoss, double InitialLoss, int Steps, int TeacherForwardPasses, IReadOnlyList<double> LossHistory, string? CheckpointDir = null);
