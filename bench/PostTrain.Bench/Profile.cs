using System.Text.Json.Nodes;
using PostTrain.Model;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PostTrain.Bench;

/// <summary>
/// Where a pretraining step's time goes, by op category. TorchSharp 0.107 exposes no autograd profiler, so each part of
/// the network is run forward + backward in isolation at the step's shapes (fresh leaf inputs, so no gradient
/// accumulation is timed), multiplied by how often the step runs it, and set against the measured step; the remainder
/// is autograd bookkeeping, dispatch, allocation and the reshapes/copies between modules.
/// </summary>
internal static class Profile
{
    public static JsonObject Run(Workload w, TrainingBench.StepTimes step, double gemmFlops, Table table)
    {
        var c = w.Config;
        long B = w.Batch, T = w.SeqLen, C = c.HiddenSize, I = c.IntermediateSize, V = c.VocabSize, L = c.NumHiddenLayers;
        long nh = c.NumAttentionHeads, nkv = c.NumKeyValueHeads, hd = c.HeadDim, M = B * T;
        var (warm, iters) = (1, Math.Max(2, w.Iters));
        manual_seed(0);
        var parts = new List<(string Category, string Part, double Seconds, double Flops)>();

        double FwdBwd(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Timing.Measure(() =>
        {
            using var scope = NewDisposeScope();
            var leaves = inputs.Select(x => x.dtype == ScalarType.Int64 ? x : x.detach().requires_grad_(true)).ToArray();
            f(leaves).sum().backward();
        }, warm, iters).MedianSeconds;

        void Linear(string category, string part, long rows, long fin, long fout, long count)
        {
            using var x = randn(rows, fin);
            using var wt = randn(fout, fin) * 0.02;
            var s = FwdBwd(a => F.linear(a[0], a[1]), x, wt);
            parts.Add((category, $"{part} ({rows}x{fin}->{fout}) x{count}", s * count, 6.0 * rows * fin * fout * count));
        }

        Linear("GEMM", "q/o proj", M, C, nh * hd, 2 * L);
        Linear("GEMM", "k/v proj", M, C, nkv * hd, 2 * L);
        Linear("GEMM", "gate/up proj", M, C, I, 2 * L);
        Linear("GEMM", "down proj", M, I, C, L);
        Linear("GEMM", "lm_head", M, C, V, 1);

        using (var q = randn(B, nh, T, hd))
        using (var k = randn(B, nkv, T, hd))
        using (var v = randn(B, nkv, T, hd))
        using (var rope = new RotaryEmbedding((int)hd, c.RopeTheta))
        {
            var (cos, sin) = rope.forward(arange(T, dtype: ScalarType.Int64).unsqueeze(0).expand(B, T));
            var rep = nh / nkv;
            var sRope = FwdBwd(a => RotaryEmbedding.Apply(a[0], cos, sin).sum() + RotaryEmbedding.Apply(a[1], cos, sin).sum(), q, k);
            var sSdpa = FwdBwd(a =>
            {
                var (kk, vv) = rep > 1 ? (a[1].repeat_interleave(rep, dim: 1), a[2].repeat_interleave(rep, dim: 1)) : (a[1], a[2]);
                return F.scaled_dot_product_attention(a[0], kk, vv, is_casual: true).transpose(1, 2).contiguous();
            }, q, k, v);
            // The reshapes around attention: (B,T,C) → (B,nh,T,hd) views for q/k/v and the contiguous copy back.
            using var xq = randn(B, T, nh * hd);
            var sGlue = FwdBwd(a => a[0].view(B, T, nh, hd).transpose(1, 2).transpose(1, 2).contiguous().view(B, T, nh * hd), xq);
            parts.Add(("attention", $"RoPE on q,k x{L}", sRope * L, 0));
            parts.Add(("attention", $"head reshape + contiguous copy x{L}", sGlue * L, 0));
            parts.Add(("attention", $"SDPA causal (B={B}, nh={nh}, T={T}, hd={hd}){(rep > 1 ? " + repeat_kv" : "")} x{L}", sSdpa * L, 12.0 * M * T * C * L));
            cos.Dispose(); sin.Dispose();
        }

        using (var x = randn(B, T, C))
        using (var norm = new RmsNorm(C, c.RmsNormEps))
        {
            var s = FwdBwd(a => norm.forward(a[0]), x);
            parts.Add(("norm/elementwise", $"RMSNorm (B,T,{C}) x{2 * L + 1}", s * (2 * L + 1), 0));
            using var y = randn(B, T, C);
            var sAdd = FwdBwd(a => a[0] + a[1], x, y);
            parts.Add(("norm/elementwise", $"residual add x{2 * L}", sAdd * 2 * L, 0));
        }
        using (var g = randn(M, I))
        using (var u = randn(M, I))
        {
            var s = FwdBwd(a => F.silu(a[0]) * a[1], g, u);
            parts.Add(("norm/elementwise", $"SwiGLU silu(g)*u ({M}x{I}) x{L}", s * L, 0));
        }
        using (var logits = randn(M, V))
        using (var targets = randint(V, [M], dtype: ScalarType.Int64))
        {
            var s = FwdBwd(a => F.cross_entropy(a[0], targets), logits);
            parts.Add(("loss", $"cross-entropy ({M}x{V})", s, 0));
        }
        using (var emb = nn.Embedding(V, C))
        using (var ids = randint(V, [B, T], dtype: ScalarType.Int64))
        {
            var s = Timing.Measure(() =>
            {
                using var scope = NewDisposeScope();
                emb.zero_grad();
                emb.forward(ids).sum().backward();
            }, warm, iters).MedianSeconds;
            parts.Add(("embedding", "embed_tokens lookup", s, 0));
        }
        parts.Add(("optimizer", "clip_grad_norm_ + AdamW step (measured in step)", step.Optimizer, 0));

        var measured = step.Total.MedianSeconds;
        var attributed = parts.Sum(p => p.Seconds);
        var json = new JsonObject { ["step_s"] = measured, ["attributed_s"] = attributed, ["method"] = "isolated forward+backward per part x count; optimizer from step phases" };
        var arr = new JsonArray();
        foreach (var p in parts)
        {
            var gflops = p.Flops > 0 ? p.Flops / p.Seconds / 1e9 : double.NaN;
            table.Add(w.Preset, p.Category, p.Part, p.Seconds, $"{100 * p.Seconds / measured:F1}%", p.Flops > 0 ? gflops : null,
                p.Flops > 0 ? $"{100 * p.Flops / p.Seconds / gemmFlops:F0}%" : null);
            arr.Add(new JsonObject { ["category"] = p.Category, ["part"] = p.Part, ["seconds"] = p.Seconds, ["share_of_step"] = p.Seconds / measured,
                ["gflops"] = p.Flops > 0 ? gflops : null });
        }
        var other = measured - attributed;
        table.Add(w.Preset, "other", "autograd/dispatch/alloc/copies (step - sum)", other, $"{100 * other / measured:F1}%", null, null);
        json["parts"] = arr;
        json["other_s"] = other;
        var byCat = new JsonObject();
        foreach (var g in parts.GroupBy(p => p.Category)) byCat[g.Key] = g.Sum(p => p.Seconds) / measured;
        byCat["other"] = other / measured;
        json["share_by_category"] = byCat;
        return json;
    }
}
