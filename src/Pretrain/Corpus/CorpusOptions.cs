using System.Text;

namespace PostTrain.Pretrain.Corpus;

/// <summary>
/// Every knob of <see cref="CorpusPreparer"/>: normalisation, exact and near-duplicate removal (MinHash + LSH banding,
/// Broder 1997; Leskovec et al., "Mining of Massive Datasets", ch. 3) and heuristic quality filters in the spirit of
/// Gopher's (Rae et al. 2021, app. A) and baichuan-7B's pipeline. The near-duplicate defaults were chosen by measurement
/// (docs/architecture.md, "Corpus preparation"): ≥ 90% recall of near copies with 5% of their words edited, and no
/// false merge among 2,000 unrelated documents.
/// </summary>
public sealed record CorpusOptions
{
    /// <summary>Default NFC. The Unicode form of the kept text. NFC only composes canonically equivalent sequences, so the
    /// text means what the source meant; NFKC would also fold compatibility characters (x² → x2, ﬁ → fi, full-width
    /// digits), which changes content. The duplicate keys are always NFKC and case-folded, so such variants still dedup.</summary>
    public NormalizationForm Normalization { get; init; } = NormalizationForm.FormC;

    /// <summary>Default 5. Words per shingle. 5-word shingles make two unrelated texts share almost nothing (Jaccard ≈ 0)
    /// while a 5% word edit keeps about 0.95⁵ ≈ 77% of a copy's shingles (Jaccard ≈ 0.63).</summary>
    public int ShingleSize { get; init; } = 5;

    /// <summary>Default 128. MinHash permutations, the signature length; must be a multiple of <see cref="Bands"/>.</summary>
    public int Permutations { get; init; } = 128;

    /// <summary>Default 32 (4 rows per band). Two documents become candidates when all rows of one band agree, with
    /// probability 1 − (1 − J⁴)³²: 0.996 at J = 0.63, 0.87 at J = 0.5, 0.05 at J = 0.2.</summary>
    public int Bands { get; init; } = 32;

    /// <summary>Default 0.5. A candidate is a near duplicate when its estimated Jaccard similarity (the fraction of equal
    /// signature entries) with a kept document reaches this; below it the band collision was chance.</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Default 42. Seeds the MinHash permutations; the same seed gives the same signatures on every machine.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Default 20 words (Gopher keeps 50–100,000; shorter texts are too little context to learn from).</summary>
    public int MinWords { get; init; } = 20;

    /// <summary>Default 100,000 words (Gopher).</summary>
    public int MaxWords { get; init; } = 100_000;

    /// <summary>Default 0.1. Largest share of symbol characters (Unicode symbols and markup punctuation such as
    /// # { } &lt; &gt; | \ ~ ^ *) among the non-space characters; prose has well under 1%.</summary>
    public double MaxSymbolRatio { get; init; } = 0.1;

    /// <summary>Default 0.3. Largest share of digits among the non-space characters (tables of numbers, ids, logs).</summary>
    public double MaxDigitRatio { get; init; } = 0.3;

    /// <summary>Default 0.3 (Gopher). Largest share of non-empty lines that repeat an earlier line of the same document.</summary>
    public double MaxRepeatedLineFraction { get; init; } = 0.3;

    /// <summary>Default 5. Words per n-gram for <see cref="MaxRepeatedNgramFraction"/>.</summary>
    public int RepeatedNgramSize { get; init; } = 5;

    /// <summary>Default 0.2. Largest share of word n-grams that repeat an earlier n-gram of the same document (spam, loops).</summary>
    public double MaxRepeatedNgramFraction { get; init; } = 0.2;

    /// <summary>Default Latin. Scripts the corpus is expected in (<see cref="Scripts.Names"/>): the character-set check
    /// removes documents whose letters are mostly in other scripts.</summary>
    public IReadOnlyList<string> Scripts { get; init; } = ["Latin"];

    /// <summary>Default 0.8. Smallest share of a document's letters that must be in <see cref="Scripts"/>.</summary>
    public double MinScriptFraction { get; init; } = 0.8;

    /// <summary>Default 4 MiB. Longest input line in bytes; a longer line is refused as bad input, so one line of a
    /// broken file cannot take the memory that streaming saves.</summary>
    public int MaxLineBytes { get; init; } = 4 << 20;

    /// <summary>Default 3. Removed documents quoted per filter in report.json.</summary>
    public int ExamplesPerFilter { get; init; } = 3;

    /// <summary>Checks every option; throws naming the option, its value and what was expected.</summary>
    public CorpusOptions Validate()
    {
        void Check(bool ok, string name, object? value, string expected)
        {
            if (!ok) throw new ArgumentException($"option {name} is {value ?? "null"}, expected {expected}", name);
        }
        Check(Normalization is NormalizationForm.FormC or NormalizationForm.FormKC, nameof(Normalization), Normalization, "FormC (NFC) or FormKC (NFKC)");
        Check(ShingleSize >= 1, nameof(ShingleSize), ShingleSize, ">= 1");
        Check(Permutations >= 1, nameof(Permutations), Permutations, ">= 1");
        Check(Bands >= 1 && Bands <= Permutations && Permutations % Bands == 0, nameof(Bands), Bands, $"a divisor of Permutations ({Permutations})");
        Check(Threshold is > 0 and <= 1, nameof(Threshold), Threshold, "in (0, 1]");
        Check(MinWords >= 0, nameof(MinWords), MinWords, ">= 0");
        Check(MaxWords >= Math.Max(1, MinWords), nameof(MaxWords), MaxWords, $">= MinWords ({MinWords}) and >= 1");
        Check(MaxSymbolRatio is >= 0 and <= 1, nameof(MaxSymbolRatio), MaxSymbolRatio, "in [0, 1]");
        Check(MaxDigitRatio is >= 0 and <= 1, nameof(MaxDigitRatio), MaxDigitRatio, "in [0, 1]");
        Check(MaxRepeatedLineFraction is >= 0 and <= 1, nameof(MaxRepeatedLineFraction), MaxRepeatedLineFraction, "in [0, 1]");
        Check(RepeatedNgramSize >= 1, nameof(RepeatedNgramSize), RepeatedNgramSize, ">= 1");
        Check(MaxRepeatedNgramFraction is >= 0 and <= 1, nameof(MaxRepeatedNgramFraction), MaxRepeatedNgramFraction, "in [0, 1]");
        Check(Scripts.Count > 0 && Scripts.All(PostTrain.Pretrain.Corpus.Scripts.Names.Contains), nameof(Scripts), string.Join(",", Scripts),
            $"one or more of {string.Join(", ", PostTrain.Pretrain.Corpus.Scripts.Names)}");
        Check(MinScriptFraction is >= 0 and <= 1, nameof(MinScriptFraction), MinScriptFraction, "in [0, 1]");
        Check(MaxLineBytes >= 1024, nameof(MaxLineBytes), MaxLineBytes, ">= 1024");
        Check(ExamplesPerFilter >= 0, nameof(ExamplesPerFilter), ExamplesPerFilter, ">= 0");
        return this;
    }
}
