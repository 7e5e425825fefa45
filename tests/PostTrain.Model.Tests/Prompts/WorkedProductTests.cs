using System.Globalization;
using PostTrain.Model.Prompts;

namespace PostTrain.Model.Tests.Prompts;

public sealed class WorkedProductTests
{
    private static readonly VerifiableTask Product = WorkedProduct.Of(new VerifiableTask("multiplication-x", TaskKind.Multiplication, "What is 7 * 38?", "266"));

    [Theory]
    [InlineData(7, 38, "7 * 8 = 56, 7 * 3 + 5 = 26, so 266")]
    [InlineData(7, 4, "7 * 4 = 28, so 28")]
    [InlineData(9, 0, "9 * 0 = 0, so 0")]
    [InlineData(2, 50, "2 * 0 = 0, 2 * 5 + 0 = 10, so 100")]
    [InlineData(9, 99, "9 * 9 = 81, 9 * 9 + 8 = 89, so 891")]
    [InlineData(12, 4567, "12 * 7 = 84, 12 * 6 + 8 = 80, 12 * 5 + 8 = 68, 12 * 4 + 6 = 54, so 54804")]
    public void Render_EachDigitLowFirstWithTheCarryThenTheProduct(long a, long b, string expected) => Assert.Equal(expected, WorkedProduct.Render(a, b));

    [Fact]
    public void Of_OtherKindsAndWorkedAnswers_Unchanged()
    {
        var sum = new VerifiableTask("addition-x", TaskKind.Addition, "What is 57 + 68?", "125");
        Assert.Same(sum, WorkedProduct.Of(sum));
        Assert.Same(Product, WorkedProduct.Of(Product));
    }

    [Fact]
    public void Of_AnswerNotTheProduct_Throws() =>
        Assert.Throws<InvalidOperationException>(() => WorkedProduct.Of(new VerifiableTask("m", TaskKind.Multiplication, "What is 7 * 38?", "267")));

    [Theory]
    [InlineData("7 * 8 = 56, 7 * 3 + 5 = 26, so 266", true)]
    [InlineData(" 7 * 8 = 56, 7 * 3 + 5 = 26, so 266<|eot_id|>", true)]
    [InlineData("266", true)]                                       // the product alone still counts
    [InlineData("7 * 8 = 56, 7 * 3 + 5 = 26, so 267", false)]        // steps right, product not theirs
    [InlineData("7 * 8 = 57, 7 * 3 + 5 = 26, so 266", false)]        // a wrong fact
    [InlineData("7 * 8 = 56, 7 * 3 + 4 = 25, so 266", false)]        // a wrong carry
    [InlineData("7 * 8 = 56, 7 * 3 + 5 = 26, so 256", false)]
    [InlineData("7 * 3 = 21, 7 * 8 + 2 = 58, so 266", false)]        // digits in the wrong order make another product
    [InlineData("6 * 8 = 48, 6 * 3 + 4 = 22, so 266", false)]        // another multiplier
    [InlineData("7 * 8 = 56", false)]                                  // no product: the first number is read, 7
    [InlineData("", false)]
    public void IsCorrect_EveryStepAndTheProductChecked(string response, bool expected) => Assert.Equal(expected, TaskChecker.IsCorrect(Product, response));

    [Fact]
    public void IsCorrect_WorkedResponseToAPlainReference_StillChecked()
    {
        var plain = new VerifiableTask("m", TaskKind.Multiplication, "What is 7 * 38?", "266");
        Assert.True(TaskChecker.IsCorrect(plain, "7 * 8 = 56, 7 * 3 + 5 = 26, so 266"));
        Assert.False(TaskChecker.IsCorrect(plain, "7 * 8 = 56, 7 * 3 + 6 = 27, so 276"));
        Assert.Equal(266, TaskChecker.AnswerOf(Product.Answer));
    }

    [Fact]
    public void NearMiss_WorkedProduct_SlipsTheLastStepAndIsWrong()
    {
        var rng = new Random(3);
        foreach (var task in new[] { Product, WorkedProduct.Of(new VerifiableTask("m", TaskKind.Multiplication, "What is 3 * 4?", "12")) })
            for (var i = 0; i < 50; i++)
            {
                var miss = NearMiss.Of(task, rng);
                var parsed = WorkedProduct.Parse(miss);
                Assert.NotNull(parsed);
                Assert.False(TaskChecker.IsCorrect(task, miss), miss);
                Assert.NotEqual(TaskChecker.AnswerOf(task.Answer), parsed.Value.Answer);
            }
    }

    [Fact]
    public void Corpus_WorkedProducts_SameTasksOnlyProductsWorkedAllCorrect()
    {
        var options = new PretrainCorpusOptions { Examples = 400, HeldOutExamples = 60, SamplingPrompts = 60, Seed = 5, Difficulty = 1 };
        var plain = PretrainCorpus.Build(options);
        var worked = PretrainCorpus.Build(options with { WorkedProducts = true, ReversedDigits = true });
        var pairs = plain.TrainTasks.Zip(worked.TrainTasks).Concat(plain.HeldOutTasks.Zip(worked.HeldOutTasks)).Concat(plain.SamplingTasks.Zip(worked.SamplingTasks)).ToList();
        Assert.Contains(pairs, p => p.First.Kind == TaskKind.Multiplication);
        foreach (var (p, w) in pairs)
        {
            Assert.Equal(p.Id, w.Id);
            Assert.True(TaskChecker.IsCorrect(w, w.Answer), w.Answer);
            Assert.True(TaskChecker.IsCorrect(p, w.Answer), w.Answer);
            var expected = p.Kind switch
            {
                TaskKind.Multiplication => WorkedProduct.Of(p).Answer,
                TaskKind.Sorting => p.Answer,
                _ => ReversedAnswer.Render(long.Parse(p.Answer, CultureInfo.InvariantCulture)),
            };
            Assert.Equal(expected, w.Answer);
        }
    }

    [Fact]
    public void TaskSet_WorkedProducts_SaysItInCorpusJson_AndOlderSetsKeepTheirBytes()
    {
        var dir = Directory.CreateTempSubdirectory("worked-").FullName;
        try
        {
            var set = new BuiltInPromptSource().CreateTaskSet(new TaskSetOptions { Examples = 200, HeldOut = 40, Prompts = 20, AnnotationPrompts = 10, WorkedProducts = true });
            set.Write(dir);
            Assert.Contains("\"workedProducts\": true", File.ReadAllText(Path.Combine(dir, TaskSet.OptionsFile)));
            var read = TaskSet.Read(dir);
            Assert.True(read.Options.WorkedProducts);
            var products = read.HeldOut.Concat(read.Sampling).Where(t => t.Kind == TaskKind.Multiplication).ToList();
            Assert.NotEmpty(products);
            Assert.All(products, t => Assert.True(WorkedProduct.Parse(t.Answer)?.StepsHold));

            set = new BuiltInPromptSource().CreateTaskSet(new TaskSetOptions { Examples = 200, HeldOut = 40, Prompts = 20, AnnotationPrompts = 10 });
            set.Write(dir);
            Assert.DoesNotContain("workedProducts", File.ReadAllText(Path.Combine(dir, TaskSet.OptionsFile)));
        }
        finally { Directory.Delete(dir, true); }
    }
}
