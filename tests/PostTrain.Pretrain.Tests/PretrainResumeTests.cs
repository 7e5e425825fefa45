using System.Globalization;
using System.Text.Json;
using PostTrain.Model.Checkpoints;

namespace PostTrain.Pretrain.Tests;

/// <summary>Issue 19: a pretrain killed after its last step checkpoint (while the final directory is averaged or written).</summary>
public sealed class PretrainResumeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "posttrain-resume-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Run_ResumedAfterLastCheckpointBeforeFinal_ReportsTheCheckpointsLossAndWritesFinal()
    {
        var options = new PretrainOptions
        {
            Preset = "tiny", OutputDir = _dir, Steps = 4, BatchSize = 2, SequenceLength = 32, WarmupSteps = 1, CheckpointEvery = 2,
            AverageLastK = 2, CorpusSize = 200, TaskDifficulty = 1, EvalEvery = 0, ExactMatchTasks = 2, ExactMatchMaxNewTokens = 2, Threads = 1, Seed = 3,
        };
        var first = new Pretrainer(options).Run();
        // The kill: the last step checkpoint is on disk, the final directory is not (or is half-written under a temp name).
        Directory.Delete(first.CheckpointDir, recursive: true);
        var lastCheckpoint = Path.Combine(_dir, Pretrainer.CheckpointsDirName, "step-000004", Checkpoint.MetadataFile);
        var savedLoss = double.Parse(JsonDocument.Parse(File.ReadAllText(lastCheckpoint)).RootElement.GetProperty("train_loss").GetString()!, CultureInfo.InvariantCulture);

        var resumed = new Pretrainer(options with { Resume = true }).Run();

        Assert.Equal(first.TrainLoss, resumed.TrainLoss);
        Assert.Equal(savedLoss, resumed.TrainLoss);
        Assert.True(double.IsFinite(resumed.TokensPerSecond), $"tokens/s is {resumed.TokensPerSecond}");
        Assert.Equal(first.HeldOutLoss, resumed.HeldOutLoss, 6);
        Assert.True(File.Exists(Path.Combine(resumed.CheckpointDir, Checkpoint.ManifestFile)));
        JsonSerializer.Serialize(resumed); // what the step cache does with the activity's metrics: NaN cannot be serialised
    }
}
