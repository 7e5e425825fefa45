using PostTrain.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Model.Tests.Network;

public class LlamaTests
{
    private static LlamaForCausalLM TinyModel(int seed = 1)
    {
        manual_seed(seed);
        var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny"));
        model.eval();
        return model;
    }

    [Fact]
    public void StateDict_Keys_MatchHuggingFaceNamesAndShapes()
    {
        var c = LlamaConfig.Preset("tiny");
        using var model = new LlamaForCausalLM(c);
        var sd = model.state_dict();
        var expected = new Dictionary<string, long[]>
        {
            ["model.embed_tokens.weight"] = [c.VocabSize, c.HiddenSize],
            ["model.norm.weight"] = [c.HiddenSize],
            ["lm_head.weight"] = [c.VocabSize, c.HiddenSize],
        };
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            expected[p + "self_attn.q_proj.weight"] = [c.NumAttentionHeads * c.HeadDim, c.HiddenSize];
            expected[p + "self_attn.k_proj.weight"] = [c.NumKeyValueHeads * c.HeadDim, c.HiddenSize];
            expected[p + "self_attn.v_proj.weight"] = [c.NumKeyValueHeads * c.HeadDim, c.HiddenSize];
            expected[p + "self_attn.o_proj.weight"] = [c.HiddenSize, c.NumAttentionHeads * c.HeadDim];
            expected[p + "mlp.gate_proj.weight"] = [c.IntermediateSize, c.HiddenSize];
            expected[p + "mlp.up_proj.weight"] = [c.IntermediateSize, c.HiddenSize];
            expected[p + "mlp.down_proj.weight"] = [c.HiddenSize, c.IntermediateSize];
            expected[p + "input_layernorm.weight"] = [c.HiddenSize];
            expected[p + "post_attention_layernorm.weight"] = [c.HiddenSize];
        }
        Assert.Equal(expected.Keys.Order(), sd.Keys.Order());
        foreach (var (k, shape) in expected) Assert.Equal(shape, sd[k].shape);
    }

    [Fact]
    public void TiedEmbeddings_NoLmHead_LogitsUseEmbedding()
    {
        manual_seed(3);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { TieWordEmbeddings = true });
        Assert.DoesNotContain("lm_head.weight", model.state_dict().Keys);
        using var _ = no_grad();
        using var ids = tensor(new long[] { 1, 2, 3 }).unsqueeze(0);
        using var h = model.model.forward(ids);
        using var logits = model.forward(ids);
        using var manual = h.matmul(model.model.embed_tokens.weight!.t());
        Assert.True(logits.allclose(manual, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Forward_WithKvCacheIncrementally_EqualsFullForward()
    {
        using var model = TinyModel();
        using var _ = no_grad();
        using var ids = randint(0, model.Config.VocabSize, [2, 12], dtype: ScalarType.Int64);
        using var full = model.forward(ids);
        using var cache = new KvCache(model.Config, 2, 16);
        var parts = new List<Tensor> { model.forward(ids[.., ..5], cache: cache) }; // prefill 5 tokens
        parts.Add(model.forward(ids[.., 5..8], cache: cache));                     // a 3-token chunk after the past
        for (var t = 8; t < 12; t++) parts.Add(model.forward(ids[.., t..(t + 1)], cache: cache));
        using var inc = cat(parts, 1);
        Assert.Equal(12, cache.Length);
        var diff = (inc - full).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"max |incremental - full| = {diff}, expected < 1e-5");
    }

    /// <summary>
    /// Continuous batching's decode step: rows at different lengths each write their key at their own position and attend
    /// through a (B, 1, 1, S) mask, bool or additive, with grouped K/V heads (tiny: 4 query heads on 2) and with one query
    /// head per K/V head (the two matmul orders of the decode attention).
    /// </summary>
    [Theory]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    public void Forward_RowPositionDecode_EachRowEqualsFullForward(int kvHeads, bool additiveMask)
    {
        manual_seed(9);
        using var model = new LlamaForCausalLM(LlamaConfig.Preset("tiny") with { NumKeyValueHeads = kvHeads });
        model.eval();
        using var _ = no_grad();
        long[][] rows = [[5, 6, 7, 8, 9, 10, 11], [12, 13, 14], [15, 16, 17, 18, 19]];
        using var cache = new KvCache(model.Config, rows.Length, 12);
        // Each row prefilled alone into its own cache row, as SlotDecoder's admission copies a prompt's keys into its slots.
        for (var r = 0; r < rows.Length; r++)
        {
            using var one = new KvCache(model.Config, 1, rows[r].Length - 1);
            model.forward(tensor(rows[r][..^1]).unsqueeze(0), cache: one).Dispose();
            cache.CopyRows(one, tensor(new long[] { 0 }), tensor(new long[] { r }), rows[r].Length - 1);
        }
        using var positions = tensor(rows.Select(p => (long)p.Length - 1).ToArray());
        var visible = rows.Max(p => p.Length);
        using var allowed = arange(visible, dtype: ScalarType.Int64).unsqueeze(0).le(positions.unsqueeze(1)).view(rows.Length, 1, 1, visible);
        using var mask = additiveMask ? zeros(rows.Length, 1, 1, visible).masked_fill_(allowed.logical_not(), double.NegativeInfinity) : allowed.alias();
        cache.WriteAtRowPositions(positions, visible);
        using var step = model.forward(tensor(rows.Select(p => p[^1]).ToArray()).view(-1, 1), positions.unsqueeze(1), mask, cache);
        cache.WriteAtRowPositions(null, 0);
        for (var r = 0; r < rows.Length; r++)
        {
            using var full = model.forward(tensor(rows[r]).unsqueeze(0));
            var diff = (step[r, 0] - full[0, -1]).abs().max().item<float>();
            Assert.True(diff < 1e-5, $"row {r}: max |row-position decode - full forward| = {diff}, expected < 1e-5");
        }
    }

    [Fact]
    public void Forward_RaggedLeftPaddedBatch_EachRowEqualsRowAlone()
    {
        using var model = TinyModel(7);
        using var _ = no_grad();
        long[][] prompts = [[5, 6, 7, 8, 9, 10], [11, 12, 13], [14]];
        var S = prompts.Max(p => p.Length);
        var pad = 0L;
        var ids = prompts.Select(p => Enumerable.Repeat(pad, S - p.Length).Concat(p)).SelectMany(x => x).ToArray();
        var real = prompts.Select(p => Enumerable.Repeat(false, S - p.Length).Concat(Enumerable.Repeat(true, p.Length))).SelectMany(x => x).ToArray();
        using var batchIds = tensor(ids).view(prompts.Length, S);
        using var keyPad = tensor(real).view(prompts.Length, S);
        using var positions = AttentionMasks.PositionsFromPadding(keyPad);

        // Prefill the ragged batch, then decode two more tokens with the cache, as the sampler does.
        using var cache = new KvCache(model.Config, prompts.Length, S + 2);
        using var mask0 = AttentionMasks.Causal(keyPad, S, S);
        using var prefill = model.forward(batchIds, positions, mask0, cache);
        long[] next = [20, 21, 22];
        using var keyPad1 = cat([keyPad, ones(prompts.Length, 1, dtype: ScalarType.Bool)], 1);
        using var mask1 = AttentionMasks.Causal(keyPad1, 1, S + 1);
        using var pos1 = positions[.., TensorIndex.Slice(-1)] + 1;
        using var step = model.forward(tensor(next).view(-1, 1), pos1, mask1, cache);

        for (var r = 0; r < prompts.Length; r++)
        {
            using var alone = model.forward(tensor(prompts[r].Append(next[r]).ToArray()).unsqueeze(0));
            using var lastPrompt = prefill[r, -1];
            var d1 = (lastPrompt - alone[0, -2]).abs().max().item<float>();
            var d2 = (step[r, 0] - alone[0, -1]).abs().max().item<float>();
            Assert.True(d1 < 1e-5 && d2 < 1e-5, $"row {r}: prefill diff {d1}, decode diff {d2}, expected < 1e-5");
        }
    }

    [Fact]
    public void PackedMask_TwoSegments_EqualsEachSegmentAlone()
    {
        using var model = TinyModel(9);
        using var _ = no_grad();
        using var a = tensor(new long[] { 3, 4, 5, 6 });
        using var b = tensor(new long[] { 7, 8, 9 });
        using var packed = cat([a, b]).unsqueeze(0);
        using var seg = tensor(new long[] { 0, 0, 0, 0, 1, 1, 1 }).unsqueeze(0);
        using var logits = model.forward(packed, AttentionMasks.PackedPositions(seg), AttentionMasks.Packed(seg));
        using var la = model.forward(a.unsqueeze(0));
        using var lb = model.forward(b.unsqueeze(0));
        Assert.True(logits[0, ..4].allclose(la[0], atol: 1e-5));
        Assert.True(logits[0, 4..].allclose(lb[0], atol: 1e-5));
    }

    [Fact]
    public void Config_InvalidKvHeads_ErrorNamesFieldActualAndExpected()
    {
        var bad = LlamaConfig.Preset("tiny") with { NumKeyValueHeads = 3 };
        var e = Assert.Throws<InvalidDataException>(() => bad.Validate("my/config.json"));
        Assert.Contains("my/config.json", e.Message);
        Assert.Contains("num_key_value_heads is 3", e.Message);
    }

    [Fact]
    public void Config_Json_RoundTripsWithHuggingFaceKeys()
    {
        var c = LlamaConfig.Preset("small");
        var json = c.ToJson();
        Assert.Contains("\"num_key_value_heads\"", json);
        Assert.Contains("\"model_type\": \"llama\"", json);
        Assert.Equal(c.ToJson(), LlamaConfig.FromJson(json, "x").ToJson());
    }
}

public class LlamaConfigJsonTests
{
    [Fact]
    public void FromJson_Llama3EosList_ReadsAllIds()
    {
        var json = LlamaConfig.Preset("tiny").ToJson().Replace("\"eos_token_id\": null", "\"eos_token_id\": [128001, 128009]");
        var c = LlamaConfig.FromJson(json, "config.json");
        Assert.Equal([128001, 128009], c.EosTokenIds!);
        Assert.Equal(128001, c.EosTokenId);
        Assert.Contains("128009", c.ToJson());
    }
}
