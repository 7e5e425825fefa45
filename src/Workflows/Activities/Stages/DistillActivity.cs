using PostTrain.Trainers.Distillation;
using PostTrain.Engine.Store;

namespace PostTrain.Workflows.Activities.Stages;

[Activity("Distill", Category = "Training", Pool = "gpu",
    Description = "Distillation, an SFT variant (Llama 3, Gemma 2): trains a student on a teacher's token distribution, forward KL on the teacher's top-k log-probs at every response token of SFT conversations; the teacher's top-k is computed once per dataset and teacher and cached (HOME/cache/distill). Teacher and student must share the vocabulary.")]
public sealed class DistillActivity : Activity<DistillActivity.Inputs, DistillActivity.Outputs>
{
    private static readonly DistillationOptions Defaults = new();

    public sealed class Inputs
    {
        [Input("Student checkpoint to train (e.g. a small base)", Required = true)] public ArtifactRef Student { get; init; }
        [Input("Teacher checkpoint (e.g. a medium model with the student's tokenizer)", Required = true)] public ArtifactRef Teacher { get; init; }
        [Input("SFT conversations (JSONL) whose responses the teacher's distribution is taken on", Required = true)] public ArtifactRef Data { get; init; }
        [Input("Teacher tokens kept per position", Min = 1, Max = 1024)] public int TopK { get; init; } = Defaults.TopK;
        [Input("Passes over the data", Min = 1)] public int Epochs { get; init; } = Defaults.Epochs;
        [Input("Peak learning rate")] public double LearningRate { get; init; } = 1e-4;
        [Input("Examples per step", Min = 1)] public int BatchSize { get; init; } = Defaults.BatchSize;
    }

    public sealed class Outputs
    {
        [Output("The distilled student")] public ArtifactRef Checkpoint { get; init; }
        [Output("KL(teacher top-k ‖ student) per response token over the last epoch")] public double Loss { get; init; }
        [Output("The same KL at the first step, before any update")] public double InitialLoss { get; init; }
    }

    public override Task<Outputs> ExecuteAsync(Inputs input, ActivityContext context)
    {
        var studentDir = StageSupport.PathOf(context, input.Student, "student");
        var teacherDir = StageSupport.PathOf(context, input.Teacher, "teacher");
        var dataPath = StageSupport.PathOf(context, input.Data, "SFT data");
        var trainer = new DistillationTrainer(new DistillationOptions
        {
            TopK = input.TopK, Epochs = input.Epochs, LearningRate = input.LearningRate, BatchSize = input.BatchSize, Seed = StageSupport.Seed(context),
        });
        // Outside the read-only artifact store, as PrepareDpo keeps the reference log-probs; keyed by dataset and teacher hash.
        var cache = Path.Combine(new PostTrainHome(context.Home).CacheDirectory, "distill");
        DistillationResult? result = null;
        var checkpoint = context.Artifacts.PutDirectory(dir =>
            result = trainer.Run(studentDir, teacherDir, dataPath, cache, dir, StageSupport.Device(context), context.Progress, context.CancellationToken));
        context.RegisterCheckpoint(checkpoint, "distill", parent: input.Student, name: "distilled");
        context.RecordMetric(MetricKeys.Distill.Kl, result!.TrainLoss);
        context.RecordMetric(MetricKeys.Distill.InitialKl, result.InitialLoss);
        context.RecordMetric(MetricKeys.Distill.TeacherForwardPasses, result.TeacherForwardPasses);
        return Task.FromResult(new Outputs { Checkpoint = checkpoint, Loss = result.TrainLoss, InitialLoss = result.InitialLoss });
    }
}
