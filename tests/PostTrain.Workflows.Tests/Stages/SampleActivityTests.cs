using PostTrain.Engine.Activities;
using PostTrain.Engine.Runtime;
using PostTrain.Engine.Store;
using PostTrain.Engine.Tests.Support;
using PostTrain.Model.Prompts;
using PostTrain.Sampling;
using PostTrain.Workflows.Activities.Stages;
using PostTrain.Workflows.Tests.Models;

namespace PostTrain.Workflows.Tests.Stages;

public sealed class SampleActivityTests
{
    /// <summary>
    /// Each step of a run has its own seed (a hash of the run's seed and the step path, which holds the shard index); the
    /// shards sample with the run's seed, so splitting the prompts changes no response and every shard records one seed.
    /// </summary>
    [Fact]
    public async Task Sample_TwoShards_SameResponsesAndSeedAsOneShard()
    {
        using var home = new TestHome();
        var artifacts = new ArtifactStore(home.Root);
        var policy = TinyCheckpoints.StoredPolicy(artifacts, Path.Combine(home.Root, "policy"), 3);
        var prompts = Enumerable.Range(0, 5).Select(i => new VerifiableTask($"t{i}", TaskKind.Addition, $"What is {i} + 2?", $"{i + 2}")).ToArray();
        var tasks = artifacts.PutDirectory(new TaskSet(new PretrainCorpusOptions(), [], prompts, []).Write);
        const long runSeed = 42;
        async Task<IReadOnlyList<SampledResponse>> Shard(int shard, int count)
        {
            var path = $"rounds[0]/sample[{shard}]/shard";
            var context = new ActivityContext
            {
                Home = home.Root, Artifacts = artifacts, RunId = Guid.NewGuid(), StepPath = path,
                Seed = StepIdentity.Seed(runSeed, path + count), RunSeed = runSeed,
            };
            var inputs = new SampleActivity.Inputs { Policy = policy, Tasks = tasks, SamplesPerPrompt = 3, Shard = shard, ShardCount = count, MaxNewTokens = 8 };
            var outputs = await new SampleActivity().ExecuteAsync(inputs, context);
            return SampleFile.Read(artifacts.PathOf(outputs.Samples));
        }
        var whole = await Shard(0, 1);
        var first = await Shard(0, 2);
        var merged = first.Concat(await Shard(1, 2)).ToList();
        Assert.Equal(15, whole.Count);
        Assert.Equal(9, first.Count);
        Assert.Equal(whole.Select(r => (r.PromptId, r.SampleIndex, string.Join(",", r.TokenIds))), merged.Select(r => (r.PromptId, r.SampleIndex, string.Join(",", r.TokenIds))));
        Assert.All(merged, r => Assert.Equal(runSeed, r.Provenance.Seed));
        // The samples are worth comparing only if the N responses of a prompt differ.
        Assert.Contains(whole.GroupBy(r => r.PromptId), g => g.Select(r => string.Join(",", r.TokenIds)).Distinct().Count() > 1);
    }
}
