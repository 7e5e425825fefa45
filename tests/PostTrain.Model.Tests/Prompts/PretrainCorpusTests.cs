using PostTrain.Model.Data;
using PostTrain.Model.Prompts;
using PostTrain.Model.Tokenization;

namespace PostTrain.Model.Tests.Prompts;

public sealed class PretrainCorpusTests
{
    private static readonly PretrainCorpusOptions Small = new() { Examples = 300, HeldOutExamples = 50, SamplingPrompts = 60, Seed = 7 };

    [Fact]
    public void Build_Sets_AreSizedAndDisjoint()
    {
        var corpus = PretrainCorpus.Build(Small);
        Assert.Equal((300, 50, 60), (corpus.TrainTasks.Count, corpus.HeldOutTasks.Count, corpus.SamplingTasks.Count));
        var prompts = corpus.TrainTasks.Concat(corpus.HeldOutTasks).Concat(corpus.SamplingTasks).Select(t => t.Prompt).ToList();
        Assert.Equal(prompts.Count, prompts.Distinct().Count());
        Assert.All(corpus.HeldOutTasks, t => Assert.Equal(TaskSplit.HeldOut, TaskGenerator.SplitOf(t.Prompt, Small.HeldOutFraction)));
    }

    [Fact]
    public void Build_SameSeed_SameCorpus()
    {
        Assert.Equal(PretrainCorpus.Build(Small).TrainTasks, PretrainCorpus.Build(Small).TrainTasks);
    }

    [Fact]
    public void Build_MoreExamplesOrPrompts_SameHeldOutSet()
    {
        var held = PretrainCorpus.Build(Small).HeldOutTasks;
        Assert.Equal(held, PretrainCorpus.Build(Small with { Examples = 900 }).HeldOutTasks);
        Assert.Equal(held, PretrainCorpus.Build(Small with { SamplingPrompts = 400 }).HeldOutTasks);
        Assert.Equal(PretrainCorpus.Build(Small).TrainTasks, PretrainCorpus.Build(Small with { SamplingPrompts = 400 }).TrainTasks);
    }

    [Fact]
    public void Build_PretrainingUsesUpSmallKinds_SamplingPromptsStayKindBalancedAndStillHaveEveryKind()
    {
        // Difficulty 1 has ~9,000 train-split sums; 20,000 pretraining examples use most of them, and a plain draw of the
        // remaining prompts would be nearly all word problems.
        var corpus = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 20_000, HeldOutExamples = 10, SamplingPrompts = 1000, Seed = 3, Difficulty = 1 });
        var byKind = corpus.SamplingTasks.CountBy(t => t.Kind!.Value).ToDictionary();
        foreach (var kind in new[] { TaskKind.Addition, TaskKind.Subtraction, TaskKind.Sorting, TaskKind.WordProblem })
            Assert.InRange(byKind.GetValueOrDefault(kind), 150, 350);
        // Products are all used by pretraining: the rounds reuse pretraining prompts of that kind alone, so they still sample it.
        Assert.InRange(byKind.GetValueOrDefault(TaskKind.Multiplication), 150, 350);
        var pretraining = corpus.TrainTasks.Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        Assert.All(corpus.SamplingTasks.Where(t => pretraining.Contains(t.Prompt)), t => Assert.Equal(TaskKind.Multiplication, t.Kind));
    }

    [Fact]
    public void Build_BalancedKinds_EveryKindAnEqualShare_SmallKindsRepeated()
    {
        var options = new PretrainCorpusOptions { Examples = 10_000, HeldOutExamples = 10, SamplingPrompts = 100, Seed = 3, Difficulty = 1 };
        var plain = PretrainCorpus.Build(options);
        var balanced = PretrainCorpus.Build(options with { BalancedKinds = true });

        // A plain draw of distinct prompts runs out of the ~720 training products; the balanced corpus drills them.
        Assert.InRange(plain.TrainTasks.Count(t => t.Kind == TaskKind.Multiplication), 500, 800);
        Assert.All(balanced.TrainTasks.CountBy(t => t.Kind!.Value), k => Assert.Equal(2000, k.Value));
        var products = balanced.TrainTasks.Where(t => t.Kind == TaskKind.Multiplication).ToList();
        Assert.InRange(products.Select(t => t.Prompt).Distinct().Count(), 600, 800);
        Assert.Equal(10_000, balanced.TrainTasks.Select(t => t.Id).Distinct().Count());
        Assert.All(balanced.TrainTasks, t => Assert.True(TaskChecker.IsCorrect(t, t.Answer)));
        Assert.All(balanced.TrainTasks, t => Assert.Equal(TaskSplit.Train, TaskGenerator.SplitOf(t.Prompt, options.HeldOutFraction)));
        Assert.Equal(plain.HeldOutTasks, balanced.HeldOutTasks);
    }

    [Fact]
    public void TaskSet_BalancedKinds_SaysItInCorpusJson_AndOlderSetsKeepTheirBytes()
    {
        var dir = Directory.CreateTempSubdirectory("balanced-").FullName;
        try
        {
            var set = new BuiltInPromptSource().CreateTaskSet(new TaskSetOptions { Examples = 200, HeldOut = 40, Prompts = 20, AnnotationPrompts = 10, BalancedKinds = true });
            set.Write(dir);
            Assert.Contains("\"balancedKinds\": true", File.ReadAllText(Path.Combine(dir, TaskSet.OptionsFile)));
            Assert.True(TaskSet.Read(dir).Options.BalancedKinds);

            set = new BuiltInPromptSource().CreateTaskSet(new TaskSetOptions { Examples = 200, HeldOut = 40, Prompts = 20, AnnotationPrompts = 10, BalancedKinds = false });
            set.Write(dir);
            Assert.DoesNotContain("balancedKinds", File.ReadAllText(Path.Combine(dir, TaskSet.OptionsFile)));
            Assert.False(TaskSet.Read(dir).Options.BalancedKinds);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Documents_TrainedTokenizer_DecodeToRenderedConversation()
    {
        var corpus = PretrainCorpus.Build(Small);
        var tokenizer = ByteBpeTokenizer.Train(corpus.TokenizerTrainingText(), 400);
        var template = new ChatTemplate(tokenizer);
        var docs = corpus.Documents(template);
        Assert.Equal(corpus.TrainTasks.Count, docs.Count);
        var texts = corpus.Texts().ToList();
        for (var i = 0; i < docs.Count; i++)
        {
            Assert.Equal(tokenizer.EosId, docs[i][^1]);
            Assert.Equal(texts[i] + SpecialTokens.EndOfText, tokenizer.Decode(docs[i]));
        }
        Assert.Contains(corpus.TrainTasks[0].Answer + SpecialTokens.EndOfTurn, texts[0]);
    }

    [Fact]
    public void SamplingPromptMessages_SystemPrompt_Prepended()
    {
        var corpus = PretrainCorpus.Build(Small with { SystemPrompt = "Answer with a number." });
        var prompt = corpus.SamplingPromptMessages()[0];
        Assert.Equal(ChatTemplate.SystemRole, prompt[0].Role);
        Assert.Equal(corpus.SamplingTasks[0].Prompt, prompt[1].Content);
    }
}
