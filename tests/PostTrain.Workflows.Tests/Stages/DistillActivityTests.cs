using PostTrain.Model.Checkpoints;
using PostTrain.Model.Data;
using PostTrain.Model.Tokenization;
using PostTrain.Workflows.Activities;
using PostTrain.Workflows.Activities.Stages;
using PostTrain.Workflows.Tests.Models;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;

namespace PostTrain.Workflows.Tests.Stages;

public sealed class DistillActivityTests
{
    [Fact]
    public async Task Distill_TinyTeacherIntoTinyStudent_TrainsRecordsAndReusesTheTeachersTopK()
    {
        using var home = new TestHome();
        var artifacts = new ArtifactStore(home.Root);
        ActivityContext Context() => new() { Home = home.Root, Artifacts = artifacts, RunId = Guid.NewGuid(), StepPath = "distill" };
        ArtifactRef Store(string name, int seed) => TinyCheckpoints.StoredPolicy(artifacts, Path.Combine(home.Root, name), seed);
        var teacher = Store("teacher", 1);
        var student = Store("student", 2);
        var data = Path.Combine(home.Root, "sft.jsonl");
        SftDataset.Write(data, Enumerable.Range(0, 6).Select(i => new SftExample([ChatMessage.User($"what is {i} + 3?")], $"the answer is {i + 3}.")));
        var inputs = new DistillActivity.Inputs { Student = student, Teacher = teacher, Data = artifacts.ImportFile(data), TopK = 8, Epochs = 2, BatchSize = 3, LearningRate = 1e-3 };

        var first = Context();
        var outputs = await new DistillActivity().ExecuteAsync(inputs, first);
        var again = Context();
        var repeat = await new DistillActivity().ExecuteAsync(inputs, again);

        Assert.True(outputs.Loss > 0 && outputs.Loss < outputs.InitialLoss, $"KL {outputs.InitialLoss} → {outputs.Loss}");
        var metadata = Checkpoint.Load(artifacts.PathOf(outputs.Checkpoint)).Metadata;
        Assert.Equal(("distill", Checkpoint.ComputeHash(artifacts.PathOf(teacher))), (metadata["stage"], metadata["teacher_checkpoint"]));
        double Passes(ActivityContext c) => c.Metrics.Single(m => m.Name == "distill/teacher_forward_passes").Value;
        Assert.True(Passes(first) > 0);
        Assert.Equal(0, Passes(again));
        Assert.Equal(outputs.Checkpoint, repeat.Checkpoint); // the cached top-k is what the teacher computed, so the same student comes out
        Assert.Single(Directory.GetFiles(Path.Combine(new PostTrainHome(home.Root).CacheDirectory, "distill")));
    }
}
