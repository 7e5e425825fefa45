using PostTrain.Model;
using PostTrain.Model.Inference;
using PostTrain.Model.Lora;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests;

public class CpuForwardTests
{
    /// <summary>A tiny model with every weight random (biases and norms too, so a dropped or misplaced one shows).</summary>
    private static LlamaForCausalLM Model(int kvHeads, bool bias, bool tied, string rope, int? headDim = null)
    {
        manual_seed(21);
        var config = LlamaConfig.Preset("tiny") with
        {
            NumKeyValueHeads = kvHeads, AttentionBias = bias, MlpBias = bias, TieWordEmbeddings = tied, ExplicitHeadDim = headDim,
            RopeScaling = rope switch
            {
                "llama3" => new RopeScaling { RopeType = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 32 },
                "yarn" => new RopeScaling { RopeType = "yarn", Factor = 4 },
                _ => null,
            },
        };
        var model = new LlamaForCausalLM(config);
        model.eval();
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.EndsWith(".bias", StringComparison.Ordinal)) p.normal_(0, 0.5);
            else if (name.Contains("norm", StringComparison.Ordinal)) p.uniform_(0.5, 1.5);
            else p.normal_(0, 0.2);
        return model;
    }

    /// <summary>Rows prefilled at ragged lengths into two identical caches, as SlotDecoder's admission fills its slots.</summary>
    private static (KvCache Reference, KvCache Fast, long[] Tokens, int[] Positions) Prefilled(LlamaForCausalLM model, int rows, int maxLength)
    {
        var rnd = new Random(rows);
        var prompts = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, 1 + rnd.Next(12)).Select(_ => (long)rnd.Next(model.Config.VocabSize)).ToArray()).ToArray();
        var (a, b) = (new KvCache(model.Config, rows, maxLength), new KvCache(model.Config, rows, maxLength));
        for (var r = 0; r < rows; r++)
        {
            using var scope = NewDisposeScope();
            using var one = new KvCache(model.Config, 1, prompts[r].Length);
            model.forward(tensor(prompts[r]).unsqueeze(0), cache: one);
            a.CopyRows(one, tensor(new long[] { 0 }), tensor(new long[] { r }), prompts[r].Length);
            b.CopyRows(one, tensor(new long[] { 0 }), tensor(new long[] { r }), prompts[r].Length);
        }
        return (a, b, prompts.Select(_ => (long)rnd.Next(model.Config.VocabSize)).ToArray(), prompts.Select(p => p.Length).ToArray());
    }

    /// <summary>The reference: the model's own row-position decode step, as SlotDecoder ran it before the fast path.</summary>
    private static Tensor ReferenceStep(LlamaForCausalLM model, KvCache cache, long[] tokens, int[] positions)
    {
        using var scope = NewDisposeScope();
        var visible = positions.Max() + 1;
        var pos = tensor(positions.Select(p => (long)p).ToArray());
        var mask = arange(visible, dtype: ScalarType.Int64).unsqueeze(0).le(pos.unsqueeze(1)).view(tokens.Length, 1, 1, visible);
        cache.WriteAtRowPositions(pos, visible);
        var logits = model.forward(tensor(tokens).view(-1, 1), pos.unsqueeze(1), mask, cache).select(1, 0);
        cache.WriteAtRowPositions(null, 0);
        return logits.MoveToOuterDisposeScope();
    }

    [Theory]
    [InlineData(2, false, false, "default", 5)]
    [InlineData(4, false, true, "default", 5)]
    [InlineData(2, true, false, "llama3", 5)]
    [InlineData(4, true, true, "yarn", 5)]
    [InlineData(2, true, false, "default", 70)] // ≥ 48 rows: two chunks of rows, one per thread
    [InlineData(1, false, false, "default", 5, 12)] // a head width that is no multiple of 8: the masked tails of q·k, p·v's lone dimensions
    [InlineData(2, false, false, "default", 5, 24)] // p·v 16 dimensions at a time, then 8
    public void Forward_TwoSteps_LogitsAndCacheEqualTheReferenceForward(int kvHeads, bool bias, bool tied, string rope, int rows, int? headDim = null)
    {
        using var model = Model(kvHeads, bias, tied, rope, headDim);
        using var _ = inference_mode();
        const int maxLength = 20;
        var (reference, fastCache, tokens, positions) = Prefilled(model, rows, maxLength);
        using (reference)
        using (fastCache)
        using (var fast = new CpuForward(model, rows + 3, maxLength, threads: 2))
        {
            Assert.Null(CpuForward.WhyNot(model, maxLength));
            for (var step = 0; step < 2; step++)
            {
                using var expected = ReferenceStep(model, reference, tokens, positions);
                using var ids = tensor(tokens);
                var actual = fast.Forward(ids, positions, fastCache);
                Assert.Equal(new long[] { rows, model.Config.VocabSize }, actual.shape);
                var diff = (actual - expected).abs().max().item<float>();
                Assert.True(diff < 2e-5f * Math.Max(1f, expected.abs().max().item<float>()), $"step {step}: max |fast − reference| logit = {diff}");
                for (var l = 0; l < model.Config.NumHiddenLayers; l++)
                {
                    var ((k0, v0), (k1, v1)) = (reference.Layer(l), fastCache.Layer(l));
                    Assert.True((k0 - k1).abs().max().item<float>() < 1e-5f, $"step {step}, layer {l}: keys differ");
                    Assert.True((v0 - v1).abs().max().item<float>() < 1e-5f, $"step {step}, layer {l}: values differ");
                }
                tokens = expected.argmax(-1).data<long>().ToArray();
                positions = positions.Select(p => p + 1).ToArray();
            }
            Assert.Equal(2, fast.Steps);
        }
    }

    [Theory]
    [InlineData(2, false, false, "default", 1)]
    [InlineData(4, true, true, "llama3", 2)]
    [InlineData(1, true, false, "default", 2, 12)]
    public void Prefill_RaggedSequencesIntoChosenRows_EqualsTheReferenceForwardOfEach(int kvHeads, bool bias, bool tied, string rope, int threads, int? headDim = null)
    {
        using var model = Model(kvHeads, bias, tied, rope, headDim);
        using var _ = inference_mode();
        const int maxLength = 20;
        var rnd = new Random(7);
        // Ten sequences of 1..19 tokens (more than 48 tokens in all: several chunks), into rows in a shuffled order.
        var sequences = Enumerable.Range(0, 10).Select(i => Enumerable.Range(0, 1 + rnd.Next(19)).Select(_ => rnd.Next(model.Config.VocabSize)).ToArray()).ToArray();
        var rows = new[] { 7, 2, 9, 0, 11, 4, 1, 8, 3, 10 };
        using var cache = new KvCache(model.Config, 12, maxLength);
        using var fast = new CpuForward(model, sequences.Sum(x => x.Length), maxLength, threads);
        fast.Prefill(sequences, rows, cache);
        var row = 0;
        for (var i = 0; i < sequences.Length; i++)
        {
            using var scope = NewDisposeScope();
            using var own = new KvCache(model.Config, 1, maxLength);
            var ids = tensor(sequences[i].Select(t => (long)t).ToArray()).unsqueeze(0);
            var hidden = model.model.forward(ids, cache: own)[0];   // (T, C)
            var logits = model.Head(hidden);                         // (T, V)
            var scale = Math.Max(1f, logits.abs().max().item<float>());
            for (var t = 0; t < sequences[i].Length; t++, row++)
            {
                var actual = tensor(fast.Logits(row).ToArray());
                Assert.True((actual - logits[t]).abs().max().item<float>() < 2e-5f * scale, $"sequence {i}, token {t}: logits differ");
                Assert.True((tensor(fast.Hidden(row).ToArray()) - hidden[t]).abs().max().item<float>() < 2e-5f * Math.Max(1f, hidden.abs().max().item<float>()), $"sequence {i}, token {t}: hidden states differ");
            }
            var n = sequences[i].Length;
            for (var l = 0; l < model.Config.NumHiddenLayers; l++)
            {
                var ((k0, v0), (k1, v1)) = (own.Layer(l), cache.Layer(l));
                Assert.True((k0[0].narrow(1, 0, n) - k1[rows[i]].narrow(1, 0, n)).abs().max().item<float>() < 1e-5f, $"sequence {i}, layer {l}: keys differ");
                Assert.True((v0[0].narrow(1, 0, n) - v1[rows[i]].narrow(1, 0, n)).abs().max().item<float>() < 1e-5f, $"sequence {i}, layer {l}: values differ");
            }
        }
        Assert.Throws<ArgumentException>(() => fast.Prefill([.. sequences, [1]], [.. rows, 5], cache)); // one token past the rows it holds
        var e = Assert.Throws<ArgumentException>(() => fast.Prefill([[1, model.Config.VocabSize]], [0], cache));
        Assert.Contains($"sequence 0 has token id {model.Config.VocabSize} at position 1", e.Message);
    }

    [Theory]
    [InlineData(1, 12)] // a head width that is no multiple of 8
    [InlineData(2, null)]
    public void Forward_RowsReadingAPromptFromOneSlot_BitForBitTheirOwnCopies_AndReadOnlyWholeBlocksOfIt(int threads, int? headDim)
    {
        using var model = Model(2, true, false, "default", headDim);
        using var _ = inference_mode();
        const int maxLength = 32, prompt = 19; // 16 positions shared (two blocks of 8), 16..18 read from each row's own copy
        var rnd = new Random(5);
        int[][] sequences = [[.. Enumerable.Range(0, prompt).Select(_ => rnd.Next(model.Config.VocabSize))], [3, 1, 4, 1, 5, 9, 2, 6, 5], [2, 7, 1]];
        // Rows 0-3 are one prompt's four samples, rows 4 and 5 other prompts (row 4 names itself, row 5 reads nothing shared).
        int[] sharedRow = [2, 2, 2, 2, 4, 5], sharedLength = [prompt, prompt, prompt, prompt, 9, 0];
        using var own = new KvCache(model.Config, 6, maxLength);
        using var shared = new KvCache(model.Config, 6, maxLength);
        using var fast = new CpuForward(model, 32, maxLength, threads);
        foreach (var cache in new[] { own, shared })
        {
            fast.Prefill(sequences, [0, 4, 5], cache);
            fast.CopyCachePrefix(cache, 0, [1, 2, 3], prompt);
        }
        // The rows that read row 2's copy hold garbage in their own shared blocks: a read of them would change their logits.
        for (var l = 0; l < model.Config.NumHiddenLayers; l++)
            foreach (var r in new[] { 0, 1, 3 })
            {
                var (k, v) = shared.Layer(l);
                k[r].narrow(1, 0, 16).normal_();
                v[r].narrow(1, 0, 16).normal_();
            }
        var positions = new[] { prompt, prompt, prompt, prompt, 9, 3 };
        var tokens = new long[] { 1, 2, 3, 4, 5, 6 };
        for (var step = 0; step < 3; step++)
        {
            using var ids = tensor(tokens);
            using var expected = fast.Forward(ids, positions, own).clone();
            var actual = fast.Forward(ids, positions, shared, sharedRow: sharedRow, sharedLength: sharedLength);
            Assert.True(actual.eq(expected).all().item<bool>(), $"step {step}: logits differ by up to {(actual - expected).abs().max().item<float>()}");
            tokens = expected.argmax(-1).data<long>().ToArray();
            positions = positions.Select(p => p + 1).ToArray();
        }
        using var one = tensor(new long[] { 1, 2, 3, 4, 5, 6 });
        var e = Assert.Throws<ArgumentException>(() => fast.Forward(one, positions, shared, sharedRow: sharedRow, sharedLength: [.. sharedLength[..5], positions[5] + 1]));
        Assert.Contains("row 5 reads its first", e.Message);
    }

    [Fact]
    public void FewRows_SplitByColumnsOnTwoThreads_GiveTheBitsOfOneThread()
    {
        using var model = Model(2, true, false, "default");
        using var _ = inference_mode();
        const int rows = 30, maxLength = 24; // 24-47 rows on two threads: each product split by column panels
        var (a, b, tokens, positions) = Prefilled(model, rows, maxLength);
        using (a)
        using (b)
        using (var one = new CpuForward(model, 64, maxLength, threads: 1))
        using (var two = new CpuForward(model, 64, maxLength, threads: 2))
        {
            using var ids = tensor(tokens);
            for (var step = 0; step < 2; step++)
            {
                using var expected = one.Forward(ids, positions, a).clone();
                var actual = two.Forward(ids, positions, b);
                Assert.True(actual.eq(expected).all().item<bool>(), $"decode step {step}: logits differ by up to {(actual - expected).abs().max().item<float>()}");
                positions = positions.Select(p => p + 1).ToArray();
            }
            // A prefill of 40 tokens in three sequences: rows split at sequence boundaries between the products.
            var rnd = new Random(3);
            int[][] sequences = [.. new[] { 17, 9, 14 }.Select(n => Enumerable.Range(0, n).Select(_ => rnd.Next(model.Config.VocabSize)).ToArray())];
            one.Prefill(sequences, [4, 0, 9], a);
            two.Prefill(sequences, [4, 0, 9], b);
            for (var r = 0; r < 40; r++) Assert.True(one.Logits(r).SequenceEqual(two.Logits(r)), $"prefill row {r}: logits differ");
            for (var l = 0; l < model.Config.NumHiddenLayers; l++)
            {
                var ((k0, v0), (k1, v1)) = (a.Layer(l), b.Layer(l));
                Assert.True(k0.eq(k1).all().item<bool>() && v0.eq(v1).all().item<bool>(), $"layer {l}: caches differ");
            }
        }
    }

    [Fact]
    public void Forward_VisitsEveryRowOnce_WithTheLogitsItReturns()
    {
        using var model = Model(2, false, false, "default");
        using var _ = inference_mode();
        const int rows = 100, maxLength = 20; // four chunks of rows on two threads: visits come from both at once
        var (reference, cache, tokens, positions) = Prefilled(model, rows, maxLength);
        reference.Dispose();
        using (cache)
        using (var fast = new CpuForward(model, rows, maxLength, threads: 2))
        {
            var seen = new float[rows][];
            var visits = new int[rows];
            using var ids = tensor(tokens);
            var logits = fast.Forward(ids, positions, cache, visit: (row, l) =>
            {
                Interlocked.Increment(ref visits[row]);
                seen[row] = l.ToArray();
            }).clone();
            Assert.All(visits, v => Assert.Equal(1, v));
            for (var r = 0; r < rows; r++) Assert.True(tensor(seen[r]).eq(logits[r]).all().item<bool>(), $"row {r}: visited logits differ from the returned ones");
            fast.Forward(ids, positions, cache); // no visitor: none left from the last step
            Assert.All(visits, v => Assert.Equal(1, v));
        }
    }

    [Fact]
    public void CopyCachePrefix_CopiesOnlyThePrefixOfEveryLayer()
    {
        using var model = Model(2, false, false, "default");
        using var _ = inference_mode();
        const int maxLength = 20;
        using var cache = new KvCache(model.Config, 4, maxLength);
        for (var l = 0; l < model.Config.NumHiddenLayers; l++)
        {
            var (k, v) = cache.Layer(l);
            k.normal_();
            v.normal_();
        }
        var before = Enumerable.Range(0, model.Config.NumHiddenLayers).Select(l => (cache.Layer(l).Keys.clone(), cache.Layer(l).Values.clone())).ToArray();
        using var fast = new CpuForward(model, 8, maxLength, 1);
        fast.CopyCachePrefix(cache, 1, [0, 3], 6);
        for (var l = 0; l < model.Config.NumHiddenLayers; l++)
        {
            var (k, v) = cache.Layer(l);
            var (k0, v0) = before[l];
            foreach (var r in new[] { 0, 3 })
            {
                Assert.True(k[r].narrow(1, 0, 6).eq(k0[1].narrow(1, 0, 6)).all().item<bool>(), $"layer {l}, row {r}: copied keys");
                Assert.True(v[r].narrow(1, 0, 6).eq(v0[1].narrow(1, 0, 6)).all().item<bool>(), $"layer {l}, row {r}: copied values");
                Assert.True(k[r].narrow(1, 6, maxLength - 6).eq(k0[r].narrow(1, 6, maxLength - 6)).all().item<bool>(), $"layer {l}, row {r}: keys past the prefix kept");
                Assert.True(v[r].narrow(1, 6, maxLength - 6).eq(v0[r].narrow(1, 6, maxLength - 6)).all().item<bool>(), $"layer {l}, row {r}: values past the prefix kept");
            }
            Assert.True(k.narrow(0, 1, 2).eq(k0.narrow(0, 1, 2)).all().item<bool>() && v.narrow(0, 1, 2).eq(v0.narrow(0, 1, 2)).all().item<bool>(), $"layer {l}: other rows untouched");
        }
    }
}
