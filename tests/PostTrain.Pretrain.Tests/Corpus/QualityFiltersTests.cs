using PostTrain.Pretrain.Corpus;

namespace PostTrain.Pretrain.Tests.Corpus;

public sealed class QualityFiltersTests
{
    private static readonly CorpusOptions Options = new();
    private static readonly SyntheticText Prose = new(seed: 3);

    private static string? FilterOf(string text) =>
        QualityFilters.Check(DocumentFeatures.Measure(TextNormalizer.Normalize(text, Options.Normalization), Options), Options)?.Filter;

    [Fact]
    public void Check_Prose_Passes() => Assert.Null(FilterOf(Prose.Document(120)));

    [Fact]
    public void Check_TooFewWords_Length()
    {
        Assert.Equal(QualityFilters.Length, FilterOf("Only a handful of words here."));
        Assert.Null(FilterOf(string.Join(' ', Enumerable.Range(0, 20).Select(_ => Prose.Word())) + "."));
    }

    [Fact]
    public void Check_TooManyWords_Length() =>
        Assert.Equal(QualityFilters.Length, QualityFilters.Check(DocumentFeatures.Measure(Prose.Document(200), Options), Options with { MaxWords = 100 })?.Filter);

    [Fact]
    public void Check_Markup_SymbolRatio() =>
        Assert.Equal(QualityFilters.SymbolRatio, FilterOf(Prose.Document(40) + "\n" + string.Concat(Enumerable.Repeat("<<## {{|}} ~~ ^^ ★★ ", 15))));

    [Fact]
    public void Check_NumberTable_DigitRatio() =>
        Assert.Equal(QualityFilters.DigitRatio, FilterOf("Prices listed below for the record.\n" + string.Join("\n", Enumerable.Range(0, 30).Select(i => $"row {i * 7919 % 100000} {i * 104729 % 1000000}"))));

    [Fact]
    public void Check_RepeatedLines_RepeatedLines()
    {
        var lines = Enumerable.Range(0, 6).Select(_ => Prose.Document(8)).ToList();
        var text = string.Join("\n", lines.Concat(lines).Concat(lines));
        Assert.Equal(QualityFilters.RepeatedLines, FilterOf(text));
    }

    [Fact]
    public void Check_LoopingPhrase_RepeatedNgrams() =>
        Assert.Equal(QualityFilters.RepeatedNgrams, FilterOf(Prose.Document(60) + " " + string.Concat(Enumerable.Repeat("buy cheap watches online today ", 20))));

    [Fact]
    public void Check_OtherScript_Language()
    {
        var russian = "Это обычный текст на русском языке, который не должен пройти проверку набора символов. " +
            "Вторая фраза рассказывает о погоде в городе, где вчера шёл сильный дождь и дул холодный ветер. " +
            "Третья говорит о книгах, которые лежат на столе у окна и ждут своего читателя уже много лет.";
        Assert.Equal(QualityFilters.Language, FilterOf(russian));
        var accepted = Options with { Scripts = ["Latin", "Cyrillic"] };
        Assert.Null(QualityFilters.Check(DocumentFeatures.Measure(russian, accepted), accepted));
    }

    [Fact]
    public void Measure_HanText_CountsCharactersAsWords()
    {
        var han = string.Concat(Enumerable.Repeat("这是一个没有空格的中文句子。", 3));
        var features = DocumentFeatures.Measure(han, Options with { Scripts = ["Han"] });
        Assert.Equal(39, features.WordHashes.Count);
        Assert.Equal(features.Letters, features.ExpectedScriptLetters);
    }

    [Fact]
    public void Normalize_Whitespace_CollapsedAndIndentKept()
    {
        Assert.Equal("a b\n\nc\n    d", TextNormalizer.Normalize("  \r\na \u00A0\t b  \r\n\r\n\r\n  \nc\u200B\n    d   \n\n", System.Text.NormalizationForm.FormC));
        Assert.Equal("caf\u00E9", TextNormalizer.Normalize("cafe\u0301", System.Text.NormalizationForm.FormC));
        Assert.Equal("x\u00B2", TextNormalizer.Normalize("x\u00B2", System.Text.NormalizationForm.FormC));
        Assert.Equal("x2", TextNormalizer.Normalize("x\u00B2", System.Text.NormalizationForm.FormKC));
    }
}
