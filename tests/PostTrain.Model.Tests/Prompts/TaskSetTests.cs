using PostTrain.Model.Tokenization;
using PostTrain.Model.Prompts;
using PostTrain.Model.Data;

namespace PostTrain.Model.Tests.Prompts;

public sealed class TaskSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("posttrain-taskset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TaskSet Make(int prompts, int perRound)
    {
        var corpus = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 50, HeldOutExamples = 5, SamplingPrompts = prompts, Seed = 1 });
        return new TaskSet(corpus.Options, corpus.HeldOutTasks, corpus.SamplingTasks, []) { PromptsPerRound = perRound };
    }

    [Fact]
    public void SamplingFor_EachRoundItsOwnSlice_ThenWrapsAround()
    {
        var set = Make(30, 10);
        set.Write(_dir);
        var read = TaskSet.Read(_dir);
        Assert.Equal(10, read.PromptsPerRound);
        var rounds = Enumerable.Range(0, 4).Select(r => read.SamplingFor(r).Select(t => t.Id).ToList()).ToList();
        Assert.All(rounds, r => Assert.Equal(10, r.Count));
        Assert.Empty(rounds[0].Intersect(rounds[1]));
        Assert.Empty(rounds[1].Intersect(rounds[2]));
        Assert.Equal(set.Sampling.Select(t => t.Id), rounds[0].Concat(rounds[1]).Concat(rounds[2]));
        Assert.Equal(rounds[0], rounds[3]);
    }

    [Fact]
    public void FreshHeldOut_NeverInTheSet_SameEveryTime()
    {
        var set = Make(12, 4);
        var fresh = set.FreshHeldOut(20);
        Assert.Equal(20, fresh.Count);
        Assert.Empty(fresh.Select(t => t.Prompt).Intersect(set.HeldOut.Concat(set.Sampling).Select(t => t.Prompt)));
        Assert.All(fresh, t => Assert.Equal(TaskSplit.HeldOut, TaskGenerator.SplitOf(t.Prompt, set.Options.HeldOutFraction)));
        Assert.Equal(fresh, set.FreshHeldOut(20));
    }

    [Fact]
    public void Read_SetWrittenBeforePerRoundPrompts_EveryRoundSamplesAll()
    {
        Make(12, 4).Write(_dir);
        File.Delete(Path.Combine(_dir, TaskSet.LayoutFile));
        var read = TaskSet.Read(_dir);
        Assert.Equal(0, read.PromptsPerRound);
        Assert.Equal(12, read.SamplingFor(5).Count);
    }

    [Fact]
    public void Read_NegativePromptsPerRound_ErrorNamesFile()
    {
        Make(12, 4).Write(_dir);
        File.WriteAllText(Path.Combine(_dir, TaskSet.LayoutFile), "{\"promptsPerRound\": -3}");
        var e = Assert.Throws<InvalidDataException>(() => TaskSet.Read(_dir));
        Assert.Contains(TaskSet.LayoutFile, e.Message);
        Assert.Contains("-3", e.Message);
    }

    [Fact]
    public void References_RoundTrip_SetsWithoutThemReadEmpty()
    {
        var corpus = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 50, HeldOutExamples = 5, SamplingPrompts = 12, Seed = 1 });
        var set = new TaskSet(corpus.Options, corpus.HeldOutTasks, corpus.SamplingTasks, []) { References = BuiltInPromptSource.ReferenceTasks(corpus, 30) };
        set.Write(_dir);
        Assert.Equal(set.References, TaskSet.Read(_dir).References);

        File.Delete(Path.Combine(_dir, TaskSet.ReferencesFile));
        Assert.Empty(TaskSet.Read(_dir).References);
    }

    [Fact]
    public void ReferenceTasks_ApartFromEveryOtherPrompt_KindBalanced_Deterministic()
    {
        var corpus = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 400, HeldOutExamples = 20, SamplingPrompts = 200, Seed = 5 });

        var references = BuiltInPromptSource.ReferenceTasks(corpus, 500);

        Assert.Equal(500, references.Select(t => t.Prompt).Distinct().Count());
        var used = corpus.TrainTasks.Concat(corpus.SamplingTasks).Concat(corpus.HeldOutTasks).Select(t => t.Prompt).ToHashSet();
        Assert.DoesNotContain(references, t => used.Contains(t.Prompt));
        Assert.All(references, t => Assert.Equal(TaskSplit.Train, TaskGenerator.SplitOf(t.Prompt, corpus.Options.HeldOutFraction)));
        Assert.All(references, t => Assert.True(TaskChecker.IsCorrect(t, t.Answer), $"{t.Prompt} -> {t.Answer}"));
        var kinds = references.GroupBy(t => t.Kind!.Value).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(kinds.Count >= 4 && kinds.Values.Max() - kinds.Values.Min() <= 1, string.Join(", ", kinds));
        Assert.Equal(references, BuiltInPromptSource.ReferenceTasks(corpus, 500));
        Assert.Empty(BuiltInPromptSource.ReferenceTasks(corpus, 0));
    }

    [Fact]
    public void ReferenceTasks_NegativeCount_ErrorNamesTheInput()
    {
        var corpus = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 50, HeldOutExamples = 5, SamplingPrompts = 10, Seed = 1 });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BuiltInPromptSource.ReferenceTasks(corpus, -2));
        Assert.Contains("ReferencePrompts", e.Message);
        Assert.Contains("-2", e.Message);
    }

    [Fact]
    public void Write_BuiltInTasks_SameBytesAsBeforeVerifiers()
    {
        // A built-in task set's files decide its artifact hash and every later step's inputs: the verifier fields must not appear in them.
        var set = new TaskSet(new PretrainCorpusOptions(), [new VerifiableTask("addition-x", TaskKind.Addition, "What is 1 + 2?", "3")], [], []) { PromptsPerRound = 4 };
        set.Write(_dir);
        Assert.Equal("{\"id\":\"addition-x\",\"kind\":0,\"prompt\":\"What is 1 \\u002B 2?\",\"answer\":\"3\"}\n", File.ReadAllText(Path.Combine(_dir, TaskSet.HeldOutFile)));
        Assert.Equal("{\n  \"promptsPerRound\": 4\n}", File.ReadAllText(Path.Combine(_dir, TaskSet.LayoutFile)));
        var read = TaskSet.Read(_dir);
        Assert.True(read.IsBuiltIn);
        Assert.IsType<CheckerVerifier>(read.CreateVerifier());
    }

    [Fact]
    public void Write_UserTasks_KeepVerifierLabelAndConversation()
    {
        var task = new VerifiableTask("gsm8k-1", null, "q", "#### 4") { Label = "gsm8k", Messages = [ChatMessage.System("s"), ChatMessage.User("q")] };
        new TaskSet(new PretrainCorpusOptions(), [task], [task], []) { Verifier = "numeric" }.Write(_dir);
        var read = TaskSet.Read(_dir);
        Assert.False(read.IsBuiltIn);
        Assert.Equal("numeric", read.CreateVerifier().Name);
        Assert.Equal("gsm8k", read.HeldOut[0].KindName);
        Assert.Null(read.HeldOut[0].Kind);
        Assert.Equal(2, read.HeldOut[0].Messages!.Count);
        Assert.Empty(read.FreshHeldOut(10));
    }
}
