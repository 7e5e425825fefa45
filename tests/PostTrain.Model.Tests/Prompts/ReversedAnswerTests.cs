using PostTrain.Model.Prompts;

namespace PostTrain.Model.Tests.Prompts;

public sealed class ReversedAnswerTests
{
    private static readonly VerifiableTask Sum = ReversedAnswer.Of(new VerifiableTask("addition-x", TaskKind.Addition, "What is 57 + 68?", "125"));
    private static readonly VerifiableTask Neg = ReversedAnswer.Of(new VerifiableTask("subtraction-x", TaskKind.Subtraction, "What is 12 - 57?", "-45"));

    [Theory]
    [InlineData(125, "521 reversed is 125")]
    [InlineData(-45, "-54 reversed is -45")]
    [InlineData(2100, "0012 reversed is 2100")]
    [InlineData(0, "0 reversed is 0")]
    public void Render_DigitsLowFirstThenTheAnswer(long n, string expected) => Assert.Equal(expected, ReversedAnswer.Render(n));

    [Fact]
    public void Of_Sorting_Unchanged()
    {
        var sort = new VerifiableTask("sorting-x", TaskKind.Sorting, "Sort in ascending order: 15, 3, 8", "3, 8, 15");
        Assert.Same(sort, ReversedAnswer.Of(sort));
    }

    [Fact]
    public void Of_AlreadyWorked_Unchanged() => Assert.Same(Sum, ReversedAnswer.Of(Sum));

    [Theory]
    [InlineData("521 reversed is 125", true)]
    [InlineData(" 521 reversed is 125<|eot_id|>", true)]
    [InlineData("521 reversed is 126", false)]   // wrong answer
    [InlineData("522 reversed is 125", false)]   // right answer, but the worked digits are not its digits
    [InlineData("125 reversed is 125", false)]
    [InlineData("125", true)]                    // the answer alone still counts
    [InlineData("521", false)]                   // the reversed digits alone are not the answer
    [InlineData("", false)]
    public void IsCorrect_Worked_BothPartsChecked(string response, bool expected) => Assert.Equal(expected, TaskChecker.IsCorrect(Sum, response));

    [Theory]
    [InlineData("-54 reversed is -45", true)]
    [InlineData("54 reversed is -45", false)]
    [InlineData("-54 reversed is 45", false)]
    public void IsCorrect_WorkedNegative_SignOnBothParts(string response, bool expected) => Assert.Equal(expected, TaskChecker.IsCorrect(Neg, response));

    [Fact]
    public void NearMiss_Worked_IsWorkedConsistentAndWrong()
    {
        var rng = new Random(3);
        for (var i = 0; i < 50; i++)
        {
            var miss = NearMiss.Of(Sum, rng);
            var parsed = ReversedAnswer.Parse(miss);
            Assert.NotNull(parsed);
            Assert.Equal(ReversedAnswer.Reverse(parsed.Value.Answer), parsed.Value.Reversed);
            Assert.False(TaskChecker.IsCorrect(Sum, miss), miss);
        }
    }

    [Fact]
    public void Corpus_ReversedDigits_SameTasksWorkedAnswersAllCorrect()
    {
        var plain = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 300, HeldOutExamples = 50, SamplingPrompts = 60, Seed = 5, Difficulty = 1 });
        var worked = PretrainCorpus.Build(new PretrainCorpusOptions { Examples = 300, HeldOutExamples = 50, SamplingPrompts = 60, Seed = 5, Difficulty = 1, ReversedDigits = true });
        foreach (var (p, w) in plain.TrainTasks.Zip(worked.TrainTasks).Concat(plain.HeldOutTasks.Zip(worked.HeldOutTasks)).Concat(plain.SamplingTasks.Zip(worked.SamplingTasks)))
        {
            Assert.Equal(p.Prompt, w.Prompt);
            Assert.Equal(p.Id, w.Id);
            Assert.True(TaskChecker.IsCorrect(w, w.Answer), w.Answer);
            Assert.True(TaskChecker.IsCorrect(p, w.Answer), w.Answer);
            if (p.Kind == TaskKind.Sorting) Assert.Equal(p.Answer, w.Answer);
            else Assert.Equal(ReversedAnswer.Render(long.Parse(p.Answer, System.Globalization.CultureInfo.InvariantCulture)), w.Answer);
        }
    }

    [Fact]
    public void TaskSet_ReversedDigits_WriteWorkedAnswersAndSayItInCorpusJson()
    {
        var dir = Directory.CreateTempSubdirectory("reversed-").FullName;
        try
        {
            var set = new BuiltInPromptSource().CreateTaskSet(new TaskSetOptions { Examples = 200, HeldOut = 20, Prompts = 20, AnnotationPrompts = 10, ReferencePrompts = 10, ReversedDigits = true });
            set.Write(dir);
            Assert.Contains("\"reversedDigits\": true", File.ReadAllText(Path.Combine(dir, TaskSet.OptionsFile)));
            var read = TaskSet.Read(dir);
            Assert.True(read.Options.ReversedDigits);
            var numeric = read.HeldOut.Concat(read.Sampling).Concat(read.Annotation).Concat(read.References).Concat(read.FreshHeldOut(20))
                .Where(t => t.Kind != TaskKind.Sorting).ToList();
            Assert.NotEmpty(numeric);
            Assert.All(numeric, t => Assert.NotNull(ReversedAnswer.Parse(t.Answer)));
        }
        finally { Directory.Delete(dir, true); }
    }
}
