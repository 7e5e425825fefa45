using PostTrain.Pretrain.Corpus;

namespace PostTrain.Pretrain.Tests.Corpus;

/// <summary>The near-duplicate detector measured against brute-force Jaccard similarity of the shingle sets.</summary>
public sealed class LshRecallTests
{
    private static readonly CorpusOptions Options = new();

    private static HashSet<ulong> ShingleSet(MinHasher hasher, string text) =>
        hasher.Shingles(DocumentFeatures.Measure(TextNormalizer.Normalize(text, Options.Normalization), Options).WordHashes).ToHashSet();

    private static uint[] Signature(MinHasher hasher, string text) =>
        hasher.Signature(DocumentFeatures.Measure(TextNormalizer.Normalize(text, Options.Normalization), Options).WordHashes);

    private static double Jaccard(HashSet<ulong> a, HashSet<ulong> b) => (double)a.Count(b.Contains) / (a.Count + b.Count - a.Count(b.Contains));

    [Fact]
    public void FindNearDuplicate_Sample_RecallAtLeast90PercentOfTrueNearPairsAndNoFalseMerge()
    {
        var text = new SyntheticText(seed: 11);
        var hasher = new MinHasher(Options);
        var originals = Enumerable.Range(0, 150).Select(i => text.Document(100 + i % 5 * 60)).ToList();
        double[] rates = [0.01, 0.03, 0.05, 0.08, 0.12, 0.2];
        var copies = originals.Select((d, i) => (Original: i, Text: text.Edit(d, rates[i % rates.Length]))).ToList();

        var index = new LshIndex(Options);
        foreach (var d in originals) index.Add(Signature(hasher, d));
        var shingles = originals.Select(d => ShingleSet(hasher, d)).ToList();

        int truePairs = 0, found = 0, falseMerges = 0;
        foreach (var (original, copy) in copies)
        {
            var copyShingles = ShingleSet(hasher, copy);
            var jaccard = Jaccard(shingles[original], copyShingles);
            var hit = index.FindNearDuplicate(Signature(hasher, copy));
            if (jaccard >= Options.Threshold)
            {
                truePairs++;
                if (hit?.Document == original) found++;
            }
            // Brute force: a merge is false when the matched document is below the threshold in true Jaccard.
            if (hit is { } h && Jaccard(shingles[h.Document], copyShingles) < Options.Threshold - 0.15) falseMerges++;
        }
        Assert.True(truePairs >= 75, $"only {truePairs} sampled pairs reach Jaccard {Options.Threshold}; the sample is too easy to mean anything");
        Assert.True(found >= 0.9 * truePairs, $"recall {found}/{truePairs} of pairs with Jaccard >= {Options.Threshold}, expected >= 90%");
        Assert.Equal(0, falseMerges);
    }

    [Fact]
    public void FindNearDuplicate_FivePercentWordEdits_RecallAtLeast90Percent()
    {
        var text = new SyntheticText(seed: 12);
        var hasher = new MinHasher(Options);
        var found = 0;
        const int Pairs = 200;
        for (var i = 0; i < Pairs; i++)
        {
            var original = text.Document(150);
            var index = new LshIndex(Options);
            index.Add(Signature(hasher, original));
            if (index.FindNearDuplicate(Signature(hasher, text.Edit(original, 0.05))) is not null) found++;
        }
        Assert.True(found >= 0.9 * Pairs, $"recall {found}/{Pairs} at 5% word edits, expected >= 90%");
    }

    [Fact]
    public void FindNearDuplicate_UnrelatedDocuments_NoMerge()
    {
        var text = new SyntheticText(seed: 13);
        var hasher = new MinHasher(Options);
        var index = new LshIndex(Options);
        var merges = 0;
        for (var i = 0; i < 2000; i++)
        {
            var signature = Signature(hasher, text.Document(60 + i % 7 * 30));
            if (index.FindNearDuplicate(signature) is not null) merges++;
            else index.Add(signature);
        }
        Assert.Equal(0, merges);
    }

    [Fact]
    public void Similarity_EstimatesBruteForceJaccard()
    {
        var text = new SyntheticText(seed: 14);
        var hasher = new MinHasher(Options with { Permutations = 512, Bands = 128 });
        var index = new LshIndex(Options with { Permutations = 512, Bands = 128 });
        var a = text.Document(300);
        var b = text.Edit(a, 0.06);
        index.Add(hasher.Signature(DocumentFeatures.Measure(a, Options).WordHashes));
        var jaccard = Jaccard(hasher.Shingles(DocumentFeatures.Measure(a, Options).WordHashes).ToHashSet(), hasher.Shingles(DocumentFeatures.Measure(b, Options).WordHashes).ToHashSet());
        var estimate = index.Similarity(hasher.Signature(DocumentFeatures.Measure(b, Options).WordHashes), 0);
        Assert.InRange(estimate, jaccard - 0.07, jaccard + 0.07); // 3 standard errors at 512 permutations
    }
}
