using PostTrain.Model.Prompts;

namespace PostTrain.Model.Tests.Prompts;

public sealed class VerifierTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "prompts", name);

    private static List<PromptRow> Import(string name)
    {
        var output = Path.Combine(Path.GetTempPath(), $"pt-prompts-{Guid.NewGuid():N}.jsonl");
        try
        {
            var result = PromptImporter.Import(Fixture(name), output);
            Assert.True(result.Succeeded, string.Join("\n", result.Errors));
            return PromptDataset.Read(output).ToList();
        }
        finally { File.Delete(output); }
    }

    private static VerifiableTask Task(string answer) => new("t", null, "q", answer);

    [Theory]
    [InlineData("So she sold 72 clips.", true)]
    [InlineData("48 + 24 = 72\n#### 72", true)]
    [InlineData("The answer is $\\boxed{72}$", true)]
    [InlineData("72.0", true)]
    [InlineData("The answer is 72. Wait, no: 71", false)]
    [InlineData("no idea", false)]
    public void Numeric_Gsm8kRow_LastNumberHashesOrBoxed(string response, bool expected)
    {
        var natalia = Import("gsm8k.jsonl")[0].ToTask();
        Assert.Equal(expected, Verifiers.Parse("numeric").Verify(natalia, response));
    }

    [Fact]
    public void Numeric_Gsm8kRows_CommasAndSigns()
    {
        var rows = Import("gsm8k.jsonl").Select(r => r.ToTask()).ToList();
        var v = new NumericVerifier();
        Assert.True(v.Verify(rows[1], "He fills 150 bags."));
        Assert.True(v.Verify(rows[2], "It is -7 degrees at midnight."));
        Assert.False(v.Verify(rows[2], "It is 7 degrees at midnight."));
        Assert.True(v.Verify(rows[3], "They saved $250."));
        Assert.Equal("1200", NumericAnswer.Of("#### 1,200"));
    }

    [Fact]
    public void Numeric_MathRows_BoxedFractionsDecimalsThousands()
    {
        var rows = Import("math.jsonl").Select(r => r.ToTask()).ToList();
        var v = new NumericVerifier();
        Assert.True(v.Verify(rows[0], "So it is \\boxed{\\dfrac{1}{2}}"));
        Assert.True(v.Verify(rows[0], "0.5"));
        Assert.True(v.Verify(rows[0], "2/4"));
        Assert.False(v.Verify(rows[0], "\\boxed{\\frac{1}{4}}"));
        Assert.True(v.Verify(rows[1], "$\\boxed{-10}$"));
        Assert.False(v.Verify(rows[1], "\\boxed{10}"));
        Assert.True(v.Verify(rows[2], "2.50"));
        Assert.True(v.Verify(rows[3], "60,000 minutes"));
        // A boxed answer that is not a number is not numeric: the verifier says so instead of guessing from its digits.
        Assert.NotNull(v.ReferenceProblem(rows[4].Answer));
        Assert.Null(v.ReferenceProblem(rows[0].Answer));
    }

    [Fact]
    public void Numeric_DigitsOfOtherScripts_AreNotNumbers_AndNeverThrow()
    {
        // A sampled response may hold any characters; Arabic-Indic and fullwidth digits match \d but are no ASCII number.
        Assert.Null(NumericAnswer.Of("\u0663\u0664"));
        Assert.Null(NumericAnswer.Of("\uFF17\uFF12"));
        Assert.Equal("72", NumericAnswer.Of("\u0663 then 72"));
    }

    [Fact]
    public void Numeric_OperatorIsNotASign()
    {
        Assert.Equal("5", NumericAnswer.Of("3-5"));
        Assert.Equal("-5", NumericAnswer.Of("x = -5"));
        Assert.Equal("3/4", NumericAnswer.Of("\\frac34"));
        Assert.Null(NumericAnswer.Of("no digits here"));
    }

    [Fact]
    public void Choice_MmluAndAquaRows_LetterFromAnswerOrIndex()
    {
        var mmlu = Import("mmlu.jsonl").Select(r => r.ToTask()).ToList();
        Assert.Equal("B", mmlu[0].Answer);
        Assert.Contains("B. Mars", mmlu[0].Prompt, StringComparison.Ordinal);
        var v = Verifiers.Parse("choice");
        Assert.True(v.Verify(mmlu[0], "B"));
        Assert.True(v.Verify(mmlu[0], "(B) Mars"));
        Assert.True(v.Verify(mmlu[0], "Mars is red, so the answer is B."));
        Assert.False(v.Verify(mmlu[0], "A. Venus"));
        Assert.False(v.Verify(mmlu[0], "Mars"));
        Assert.True(v.Verify(mmlu[1], "Answer: C"));
        var aqua = Import("aqua.jsonl")[0].ToTask();
        Assert.Equal("B", aqua.Answer);
        Assert.Contains("\nB)40 km/h", aqua.Prompt, StringComparison.Ordinal);
        Assert.True(v.Verify(aqua, "B)40 km/h"));
        Assert.NotNull(v.ReferenceProblem("Mars"));
    }

    [Fact]
    public void Exact_TrimsAndCollapsesWhitespace_CaseCounts()
    {
        var v = Verifiers.Parse("exact");
        Assert.True(v.Verify(Task("Paris"), "  Paris\n"));
        Assert.True(v.Verify(Task("New  York"), "New York"));
        Assert.False(v.Verify(Task("Paris"), "paris"));
        Assert.NotNull(v.ReferenceProblem(" "));
    }

    [Fact]
    public void Regex_CaptureGroupComparedWithReference_OrMatchAlone()
    {
        var v = Verifiers.Parse(@"regex:ANSWER:\s*(\w+)");
        Assert.Equal(@"regex:ANSWER:\s*(\w+)", v.Name);
        Assert.True(v.Verify(Task("42"), "work... ANSWER: 41 no, ANSWER: 42"));
        Assert.False(v.Verify(Task("42"), "ANSWER: 41"));
        Assert.True(v.Verify(Task(""), "ANSWER: anything"));
        Assert.False(v.Verify(Task(""), "nothing"));
    }

    [Fact]
    public void Checker_IsTheBuiltInTaskChecker()
    {
        var sum = new VerifiableTask("addition-x", TaskKind.Addition, "What is 482 + 739?", "1221");
        Assert.True(Verifiers.Parse("checker").Verify(sum, "1,221"));
        Assert.False(Verifiers.Parse("checker").Verify(sum, "1220"));
    }

    [Fact]
    public void None_JudgesNothing()
    {
        Assert.Null(Verifiers.Parse("none").Verify(Task("5"), "5"));
    }

    [Theory]
    [InlineData("fuzzy", "'fuzzy' is not a verifier")]
    [InlineData("regex:", "empty pattern")]
    [InlineData("regex:(unclosed", "regex:(unclosed")]
    public void Parse_BadSpec_NamesIt(string spec, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => Verifiers.Parse(spec));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("verifier: ", e.Message, StringComparison.Ordinal);
    }
}
