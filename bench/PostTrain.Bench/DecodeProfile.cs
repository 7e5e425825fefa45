using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Model.Inference;
using PostTrain.Sampling;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Bench;

/// <summary>
/// Where one continuous-batching decode step goes at iterate's batch (256 rows, each at its own cache length around the
/// mean): the whole forward through the row-position K/V cache as <c>SlotDecoder</c> runs it, each part of it in isolation
/// at the step's shapes × how often the step runs it, and token selection (log-softmax, the inverse-CDF token choice).
/// The CPU fast path SlotDecoder takes (CpuForward) is timed against the reference forward. Alternatives of the costly parts are timed beside them in the same run, so their ratios compare like for like.
/// </summary>
internal static class DecodeProfile
{
    public static JsonObject Run(Workload w, Table table, int rows = 256, int promptLen = 32, int newTokens = 64)
    {
        var c = w.Config;
        long R = rows, C = c.HiddenSize, L = c.NumHiddenLayers, nh = c.NumAttentionHeads, nkv = c.NumKeyValueHeads, hd = c.HeadDim;
        var V = c.VocabSize;
        var maxLength = Math.Min(c.MaxPositionEmbeddings, promptLen + newTokens);
        var mean = promptLen + (maxLength - promptLen) / 2;
        var iters = Math.Max(5, w.Iters);
        manual_seed(0);
        using var model = new LlamaForCausalLM(c);
        model.eval();
        using var inference = inference_mode();
        var parts = new List<(string Part, double Seconds)>();
        // The fastest of the runs: on a shared machine the median mostly measures the other processes.
        double Time(Action a) => Timing.Measure(() => { using var s = NewDisposeScope(); a(); }, 1, iters).MinSeconds;

        // Rows at ragged lengths mean ± 16, as a continuous batch is: the whole forward, with its per-step mask.
        using var positions = randint(mean - 16, mean + 16, [R], dtype: ScalarType.Int64);
        using var token = randint(V, [R, 1], dtype: ScalarType.Int64);
        using var cache = new KvCache(c, R, maxLength);
        using var keyIndex = arange(maxLength, dtype: ScalarType.Int64);
        var visible = mean + 16;
        void Forward(bool additive)
        {
            var mask = keyIndex.narrow(0, 0, visible).unsqueeze(0).le(positions.unsqueeze(1)).view(R, 1, 1, visible);
            if (additive) mask = zeros(R, 1, 1, visible).masked_fill_(mask.logical_not(), double.NegativeInfinity);
            cache.WriteAtRowPositions(positions, visible);
            model.forward(token, positions.unsqueeze(1), mask, cache);
            cache.WriteAtRowPositions(null, 0);
        }
        var forward = Time(() => Forward(additive: false));

        using var x = randn(R, 1, C);
        using var k = randn(R, nkv, maxLength, hd);
        using var v = randn(R, nkv, maxLength, hd);
        using var vT = randn(R, nkv, hd, maxLength); // values stored transposed, the cache's layout until 2026-12-05
        using var q = randn(R, nh, 1, hd);
        using var kNew = randn(R, nkv, 1, hd);
        var layer = model.model.layers[0];
        var attn = layer.self_attn;
        parts.Add(("q,k,v,o projections", L * Time(() => { attn.q_proj.forward(x); attn.k_proj.forward(x); attn.v_proj.forward(x); attn.o_proj.forward(x); })));
        parts.Add(("MLP (gate, up, silu·up, down)", L * Time(() => layer.mlp.forward(x))));
        parts.Add(("RMSNorm", (2 * L + 1) * Time(() => layer.input_layernorm.forward(x))));
        parts.Add(("residual adds", 2 * L * Time(() => { var _ = x + x; })));
        using var rope = new RotaryEmbedding((int)hd, c.RopeTheta);
        parts.Add(("RoPE cos/sin", Time(() => rope.forward(positions.unsqueeze(1)))));
        var (cos, sin) = rope.forward(positions.unsqueeze(1));
        parts.Add(("RoPE on q, k", L * Time(() => { RotaryEmbedding.Apply(q, cos, sin); RotaryEmbedding.Apply(kNew, cos, sin); })));
        using var write = positions.view(-1, 1, 1, 1).expand(R, nkv, 1, hd);
        parts.Add(("K/V cache write (scatter_)", L * Time(() => { k.scatter_(2, write, kNew); v.scatter_(2, write, kNew); })));
        using var mask = keyIndex.narrow(0, 0, visible).unsqueeze(0).le(positions.unsqueeze(1)).view(R, 1, 1, visible);
        var qg = q.reshape(R, nkv, nh / nkv, hd);
        var (kv, vv) = (k.narrow(2, 0, visible), v.narrow(2, 0, visible));
        var scale = 1.0 / Math.Sqrt(hd);
        var vTv = vT.narrow(3, 0, visible);
        // The model's decode attention (Llama.cs Attention.forward, T = 1 over a cache): grouped matmuls on cache views.
        Action matmuls = nh == nkv
            ? () => F.softmax(kv.matmul(qg.transpose(2, 3)).transpose(2, 3).mul_(scale).masked_fill_(mask.logical_not(), double.NegativeInfinity), -1).matmul(vv)
            : () => F.softmax(qg.matmul(kv.transpose(2, 3)).mul_(scale).masked_fill_(mask.logical_not(), double.NegativeInfinity), -1).matmul(vv);
        parts.Add(($"attention: grouped matmuls on the cache, bool mask, over {visible} cached positions", L * Time(matmuls)));
        parts.Add(("lm_head", Time(() => model.Head(x))));
        using var logits = randn(R, V);
        parts.Add(("selection: log_softmax", Time(() => F.log_softmax(logits, -1))));
        using var keys = randint(long.MinValue, long.MaxValue, [R], dtype: ScalarType.Int64);
        using var steps = randint(0, 64, [R], dtype: ScalarType.Int64);
        var hostKeys = keys.data<long>().Select(k => unchecked((ulong)k)).ToArray();
        var hostSteps = steps.data<long>().Select(t => (int)t).ToArray();
        parts.Add(("selection: token choice by inverse CDF (InverseCdf, one counter-based uniform per row)", Time(() => InverseCdf.Choose(logits, hostKeys, hostSteps))));

        // Alternatives, same shapes, same run.
        var alternatives = new JsonObject();
        // Baseline and alternative timed in turns, the fastest of each kept: a slow minute of the machine hits both.
        void Alt(string name, Action baseline, Action alternative)
        {
            var (a, b) = (double.MaxValue, double.MaxValue);
            for (var i = 0; i < iters; i++)
            {
                a = Math.Min(a, Time1(baseline));
                b = Math.Min(b, Time1(alternative));
            }
            alternatives[name] = new JsonObject { ["seconds"] = b, ["baseline_seconds"] = a, ["over_baseline"] = b / a };
            table.Add(w.Preset, "alternative", name, b, $"{b / a:F2}x baseline", $"baseline {a:G3} s");
        }
        double Time1(Action a) => Timing.Measure(() => { using var s = NewDisposeScope(); a(); }, 1, 1).MinSeconds;
        using var bias = zeros(R, 1, 1, visible).masked_fill_(mask.logical_not(), double.NegativeInfinity);
        Alt("whole forward: boolean mask (current) vs additive mask made once per step", () => Forward(additive: false), () => Forward(additive: true));
        Action current = () => F.scaled_dot_product_attention(qg, kv, vv, attn_mask: mask);
        Alt("attention, one layer: SDPA with a bool mask (until 2026-12-04) vs grouped matmuls on the cache (current)", current, matmuls);
        Alt("attention, one layer: SDPA with a bool mask vs with a float mask", current, () => F.scaled_dot_product_attention(qg, kv, vv, attn_mask: bias));
        Alt("attention, one layer: SDPA with a bool mask vs no mask (a static batch)", current, () => F.scaled_dot_product_attention(qg, kv, vv));
        Alt("attention, one layer: p·v over values stored transposed (2026-12-04 to -05) vs stored (L, hd) (current: CpuForward's p·v wants whole rows)",
            () => F.softmax(qg.matmul(kv.transpose(2, 3)), -1).matmul(vTv.transpose(2, 3)), () => F.softmax(qg.matmul(kv.transpose(2, 3)), -1).matmul(vv));
        Action gumbel = () => logits.add(AllocatingGumbel(keys, steps, V)).argmax(-1);
        Alt("token choice: Gumbel noise + argmax (the allocating version; the in-place one, used until 2026-12-04, took 0.65x of it) vs inverse CDF on the device (softmax, cumsum, searchsorted)",
            gumbel, () => InverseCdf.Choose(logits, hostKeys, hostSteps, onHost: false));
        Alt("token choice: Gumbel noise + argmax (allocating) vs inverse CDF as a C# loop over the logits (current on the CPU)", gumbel, () => InverseCdf.Choose(logits, hostKeys, hostSteps));
        using var kc = k.narrow(2, 0, visible).contiguous();
        using var vc = v.narrow(2, 0, visible).contiguous();
        using var fullMask = keyIndex.unsqueeze(0).le(positions.unsqueeze(1)).view(R, 1, 1, maxLength);
        // The CPU fast path SlotDecoder takes for float32 models (CpuForward): the same step, and its GEMMs alone.
        var hostPositions = positions.data<long>().Select(p => (int)p).ToArray();
        using var fast = new CpuForward(model, rows, maxLength, 1);
        using var threaded = new CpuForward(model, rows, maxLength, get_num_threads());
        Alt("whole forward: the reference model through the row-position cache vs CpuForward (current on the CPU)", () => Forward(additive: false),
            () => fast.Forward(token, hostPositions, cache));
        Alt($"CpuForward: row loops on one thread (current) vs on {get_num_threads()}", () => fast.Forward(token, hostPositions, cache),
            () => threaded.Forward(token, hostPositions, cache));
        var fastForward = Time(() => fast.Forward(token, hostPositions, cache));
        var gemms = Time(() => fast.GemmsOnly(rows));
        table.Add(w.Preset, "fast path", $"CpuForward forward, {R} rows", fastForward, $"{100 * fastForward / forward:F0}% of the reference forward",
            $"its GEMMs alone {gemms:G3} s ({100 * gemms / fastForward:F0}%)");
        alternatives["cpu_decode_step"] = new JsonObject { ["forward_s"] = fastForward, ["gemms_only_s"] = gemms, ["reference_forward_s"] = forward };
        Alt($"attention, one layer: SDPA over the cache prefix vs over the whole {maxLength}-position cache (contiguous, masked)", current,
            () => F.scaled_dot_product_attention(qg, k, v, attn_mask: fullMask));
        Alt("attention, one layer: SDPA over the cache prefix vs over contiguous K/V (copy not timed)", current, () => F.scaled_dot_product_attention(qg, kc, vc, attn_mask: mask));

        var attributed = parts.Sum(p => p.Seconds);
        var json = new JsonObject
        {
            ["rows"] = R, ["mean_cached_positions"] = mean, ["forward_s"] = forward, ["attributed_s"] = attributed,
            ["method"] = "whole forward through the row-position cache (mask included) vs each part in isolation x its count per step; selection parts besides",
        };
        table.Add(w.Preset, "forward", $"whole decode forward, {R} rows at {mean}±16 cached positions", forward, "100%", null);
        var arr = new JsonArray();
        foreach (var (part, s) in parts)
        {
            table.Add(w.Preset, "part", part, s, $"{100 * s / forward:F1}% of forward", null);
            arr.Add(new JsonObject { ["part"] = part, ["seconds"] = s, ["share_of_forward"] = s / forward });
        }
        json["parts"] = arr;
        json["alternatives"] = alternatives;
        cos.Dispose(); sin.Dispose();
        return json;
    }

    /// <summary>Gumbel noise as the sampler first computed it on the tensor, kept here as the baseline the inverse CDF is timed against.</summary>
    private static Tensor AllocatingGumbel(Tensor keys, Tensor steps, long vocab)
    {
        const ulong golden = 0x9E3779B97F4A7C15UL;
        static Tensor Shr(Tensor z, int bits) => z.bitwise_right_shift(tensor((long)bits)).bitwise_and_(tensor((1L << (64 - bits)) - 1));
        var z = keys.unsqueeze(1) + (steps.unsqueeze(1) * vocab + arange(vocab, dtype: ScalarType.Int64)) * unchecked((long)golden);
        z = z.bitwise_xor(Shr(z, 30)).mul_(unchecked((long)0xBF58476D1CE4E5B9UL));
        z = z.bitwise_xor(Shr(z, 27)).mul_(unchecked((long)0x94D049BB133111EBUL));
        z = z.bitwise_xor(Shr(z, 31));
        var u = (Shr(z, 11).to_type(ScalarType.Float64) + 0.5) * (1.0 / (1UL << 53));
        return u.log_().neg_().log_().neg_().to_type(ScalarType.Float32);
    }
}
