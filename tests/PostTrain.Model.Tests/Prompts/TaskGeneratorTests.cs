using PostTrain.Model.Data;
using PostTrain.Model.Prompts;

namespace PostTrain.Model.Tests.Prompts;

public sealed class TaskGeneratorTests
{
    [Fact]
    public void Generate_SameSeed_SameTasks()
    {
        var a = new TaskGenerator(42).Generate(200, TaskSplit.Train);
        var b = new TaskGenerator(42).Generate(200, TaskSplit.Train);
        Assert.Equal(a, b);
        Assert.NotEqual(a, new TaskGenerator(43).Generate(200, TaskSplit.Train));
    }

    [Fact]
    public void Generate_EveryTask_AnswerIsCheckedCorrect()
    {
        var tasks = new TaskGenerator(1, difficulty: 3).Generate(500, TaskSplit.Train);
        Assert.All(tasks, t => Assert.True(TaskChecker.IsCorrect(t, t.Answer), $"{t.Prompt} -> {t.Answer}"));
        Assert.Equal(Enum.GetValues<TaskKind>().Length, tasks.Select(t => t.Kind).Distinct().Count());
    }

    [Fact]
    public void Generate_TrainAndHeldOut_NeverOverlapAcrossSeeds()
    {
        var train = new TaskGenerator(1).Generate(2000, TaskSplit.Train).Select(t => t.Prompt).ToHashSet();
        var heldOut = new TaskGenerator(2).Generate(300, TaskSplit.HeldOut);
        Assert.DoesNotContain(heldOut, t => train.Contains(t.Prompt));
        Assert.All(heldOut, t => Assert.Equal(TaskSplit.HeldOut, TaskGenerator.SplitOf(t.Prompt, 0.1)));
    }

    [Fact]
    public void Next_Arithmetic_AnswersMatchPrompt()
    {
        var gen = new TaskGenerator(9, kinds: [TaskKind.Subtraction]);
        var sawNegative = false;
        for (var i = 0; i < 200; i++)
        {
            var t = gen.Next();
            var parts = t.Prompt["What is ".Length..^1].Split(" - ");
            Assert.Equal(long.Parse(parts[0]) - long.Parse(parts[1]), long.Parse(t.Answer));
            sawNegative |= t.Answer.StartsWith('-');
        }
        Assert.True(sawNegative);
    }

    [Fact]
    public void Next_Sorting_AnswerIsSortedPromptList()
    {
        var t = new TaskGenerator(3, kinds: [TaskKind.Sorting]).Next();
        var values = t.Prompt.Split(':')[1].Split(',').Select(s => int.Parse(s.Trim())).Order();
        Assert.Equal(string.Join(", ", values), t.Answer);
    }

    [Fact]
    public void Next_HigherDifficulty_LargerNumbers()
    {
        static double MeanLength(int d)
        {
            var gen = new TaskGenerator(5, d, kinds: [TaskKind.Addition]);
            return Enumerable.Range(0, 300).Average(_ => gen.Next().Answer.Length);
        }
        Assert.True(MeanLength(5) > MeanLength(1) + 2);
    }

    [Fact]
    public void Generate_MoreThanTheTaskSpace_ThrowsWithCounts()
    {
        var gen = new TaskGenerator(1, difficulty: 1, kinds: [TaskKind.Multiplication]);
        var e = Assert.Throws<InvalidOperationException>(() => gen.Generate(10_000, TaskSplit.Train));
        Assert.Contains("10000 requested", e.Message);
    }

    [Fact]
    public void Constructor_BadDifficulty_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TaskGenerator(1, difficulty: 0));
    }

    [Fact]
    public void GenerateBalanced_EverySliceHasEveryKind()
    {
        var tasks = TaskGenerator.GenerateBalanced(seed: 5, difficulty: 2, heldOutFraction: 0.1, count: 500, TaskSplit.Train);
        Assert.Equal(500, tasks.Count);
        Assert.Equal(500, tasks.Select(t => t.Prompt).Distinct().Count());
        for (var start = 0; start < 500; start += 100)
            Assert.All(Enum.GetValues<TaskKind>(), k => Assert.InRange(tasks.Skip(start).Take(100).Count(t => t.Kind == k), 19, 21));
    }

    [Fact]
    public void GenerateBalanced_SmallKindRunsOut_OthersFillItsTurns()
    {
        // Difficulty 1 multiplication has under 900 distinct prompts in all.
        var tasks = TaskGenerator.GenerateBalanced(seed: 5, difficulty: 1, heldOutFraction: 0.1, count: 6000, TaskSplit.Train);
        Assert.Equal(6000, tasks.Count);
        Assert.InRange(tasks.Count(t => t.Kind == TaskKind.Multiplication), 100, 900);
        Assert.All(tasks, t => Assert.Equal(TaskSplit.Train, TaskGenerator.SplitOf(t.Prompt, 0.1)));
    }

    [Fact]
    public void GenerateBalanced_SmallKindRunsOut_ItsTasksAreSpreadOverTheWholeList()
    {
        // Under 900 products at difficulty 1: before, all of them came first and the second half of the list had none.
        var tasks = TaskGenerator.GenerateBalanced(seed: 5, difficulty: 1, heldOutFraction: 0.1, count: 6000, TaskSplit.Train);
        var products = tasks.Count(t => t.Kind == TaskKind.Multiplication);
        for (var start = 0; start < 6000; start += 1000)
            Assert.InRange(tasks.Skip(start).Take(1000).Count(t => t.Kind == TaskKind.Multiplication), products / 6 - 2, products / 6 + 2);
    }

    [Fact]
    public void GenerateBalanced_ReuseExcluded_AKindWhoseFreshPromptsRanOutDrawsExcludedOnes()
    {
        var pretraining = new TaskGenerator(seed: 9, difficulty: 1, heldOutFraction: 0.1, kinds: [TaskKind.Multiplication])
            .GenerateUpTo(5000, TaskSplit.Train).Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        var without = TaskGenerator.GenerateBalanced(seed: 5, difficulty: 1, heldOutFraction: 0.1, count: 1000, TaskSplit.Train, pretraining);
        var with = TaskGenerator.GenerateBalanced(seed: 5, difficulty: 1, heldOutFraction: 0.1, count: 1000, TaskSplit.Train, pretraining, reuseExcluded: true);
        Assert.Equal(0, without.Count(t => t.Kind == TaskKind.Multiplication));
        Assert.Equal(200, with.Count(t => t.Kind == TaskKind.Multiplication));
        Assert.All(with.Where(t => t.Kind == TaskKind.Multiplication), t => Assert.Contains(t.Prompt, pretraining));
        Assert.Equal(1000, with.Select(t => t.Prompt).Distinct().Count());
        Assert.All(with.Where(t => t.Kind != TaskKind.Multiplication), t => Assert.DoesNotContain(t.Prompt, pretraining));
    }

    [Fact]
    public void GenerateBalanced_ReuseExcluded_AKindSmallerThanItsShareRepeatsItsPromptsUnderNewIds()
    {
        var pretraining = new TaskGenerator(seed: 9, difficulty: 1, heldOutFraction: 0.1, kinds: [TaskKind.Multiplication])
            .GenerateUpTo(5000, TaskSplit.Train).Select(t => t.Prompt).ToHashSet(StringComparer.Ordinal);
        var distinct = pretraining.Count;
        const int count = 10_000;

        var tasks = TaskGenerator.GenerateBalanced(seed: 5, difficulty: 1, heldOutFraction: 0.1, count, TaskSplit.Train, pretraining, reuseExcluded: true, repeat: true);

        // Every kind keeps its share, products too, by repeating the split's ~720 training products.
        Assert.All(tasks.CountBy(t => t.Kind!.Value), k => Assert.Equal(count / 5, k.Value));
        var products = tasks.Where(t => t.Kind == TaskKind.Multiplication).ToList();
        Assert.InRange(distinct, 600, 800);
        Assert.Equal(distinct, products.Select(t => t.Prompt).Distinct().Count());
        Assert.Equal(count, tasks.Select(t => t.Id).Distinct().Count());
        Assert.All(products, t => Assert.True(TaskChecker.IsCorrect(t, t.Answer)));
        // A repeat comes back only after the kind's other prompts: no prompt twice in a slice of a round's size.
        var roundSize = count * distinct / (count / 5) - 50;
        for (var start = 0; start + roundSize <= count; start += roundSize / 2)
        {
            var slice = tasks.Skip(start).Take(roundSize).Select(t => t.Prompt).ToList();
            Assert.Equal(slice.Count, slice.Distinct().Count());
        }
    }
}
