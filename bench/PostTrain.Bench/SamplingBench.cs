using System.Diagnostics;
using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Sampling;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>
/// Sampling N responses per prompt, four ways at the model level (so each differs from the next in one thing) plus the
/// library's <see cref="Sampler"/>: batched with the KV cache and the prompt's cache shared by its N rows; batched but each
/// row prefilling its own copy of the prompt; one sequence at a time; no cache (the whole sequence re-run each step).
/// Every way samples from softmax(logits) and generates the same number of tokens; there are no stop tokens.
/// </summary>
internal static class SamplingBench
{
    private sealed record Way(string Name, long Rows, int NewTokens, double Prefill, double Decode)
    {
        public double Generated => (double)Rows * NewTokens;
        public double TokensPerSecond => Generated / (Prefill + Decode);
        public double DecodeTokensPerSecond => Generated / Decode;
    }

    public static JsonObject Run(Workload w, Ceilings ceilings, bool quick, Table table)
    {
        var c = w.Config;
        var (prompts, n, promptLen, newTokens) = quick ? (2, 4, 32, 16) : (4, 8, 32, 64);
        newTokens = Math.Min(newTokens, c.MaxPositionEmbeddings - promptLen);
        var rows = prompts * n;
        manual_seed(0);
        using var model = new LlamaForCausalLM(c);
        model.eval();
        using var _ = no_grad();
        var promptRows = w.RandomRows(prompts, promptLen, seed: 11);
        using var promptIds = Workload.ToTensor(promptRows);                             // (P, Lp)
        using var share = arange(prompts, dtype: ScalarType.Int64).repeat_interleave(n);  // (P·N,) row → its prompt
        using var repeated = promptIds.index_select(0, share);                            // (P·N, Lp)

        Cached(promptIds, newTokens, share); // warm-up
        var runs = new List<Way>
        {
            Cached(promptIds, newTokens, share) with { Name = "batched, KV cache, prompt cache shared by N" },
            Cached(repeated, newTokens, null) with { Name = "batched, KV cache, prefill each continuation" },
        };
        // One at a time: a subset of the rows gives the per-token rate without spending minutes on it.
        var single = quick ? 2 : 8;
        double sPre = 0, sDec = 0;
        for (var i = 0; i < single; i++)
        {
            using var one = repeated[TensorIndex.Slice(i, i + 1)];
            var r = Cached(one, newTokens, null);
            sPre += r.Prefill; sDec += r.Decode;
        }
        runs.Add(new Way($"one sequence at a time, KV cache ({single} of {rows} rows)", single, newTokens, sPre, sDec));
        // No cache on half the rows: the rate is per generated token, and the full batch cost a minute on medium alone.
        using (var half = repeated[TensorIndex.Slice(0, rows / 2)])
            runs.Add(NoCache(half, newTokens) with { Name = $"no cache, batched, full recompute each step ({rows / 2} of {rows} rows)" });

        var sampler = new Sampler(model, new SamplingOptions { SamplesPerPrompt = n, MaxNewTokens = newTokens, BatchSize = rows, StopIds = [], Temperature = 1.0, Seed = 1 });
        var tokenPrompts = promptRows.Select((ids, i) => new TokenPrompt($"p{i}", ids)).ToArray();
        var lib = sampler.Generate(tokenPrompts).Stats;
        var libTps = lib.TokensPerSecond;

        // Memory-bandwidth bound of a decode step: weights + the K/V read at the mean cache length.
        var meanCached = promptLen + newTokens / 2.0;
        double Bound(long batch) => batch * ceilings.CopyBytesPerSecond / ModelFlops.DecodeBytes(c, batch, meanCached);
        var baseline = runs[0].TokensPerSecond;
        var json = new JsonObject
        {
            ["prompts"] = prompts, ["samples_per_prompt"] = n, ["prompt_len"] = promptLen, ["new_tokens"] = newTokens,
            ["decode_bytes_per_step_batched"] = ModelFlops.DecodeBytes(c, rows, meanCached),
            ["decode_bytes_per_step_single"] = ModelFlops.DecodeBytes(c, 1, meanCached),
        };
        var arr = new JsonArray();
        foreach (var r in runs)
        {
            var bound = r.Rows == 1 || r.Name.StartsWith("one", StringComparison.Ordinal) ? Bound(1) : Bound(rows);
            var decodeTps = r.Name.StartsWith("no cache", StringComparison.Ordinal) ? double.NaN : r.DecodeTokensPerSecond;
            table.Add(w.Preset, r.Name, r.TokensPerSecond, $"{r.TokensPerSecond / baseline:F2}x", r.Prefill, r.Decode, decodeTps,
                double.IsNaN(decodeTps) ? null : bound, double.IsNaN(decodeTps) ? null : $"{100 * decodeTps / bound:F0}%");
            arr.Add(new JsonObject
            {
                ["name"] = r.Name, ["rows"] = r.Rows, ["tokens_per_s"] = r.TokensPerSecond, ["prefill_s"] = r.Prefill, ["decode_s"] = r.Decode,
                ["decode_tokens_per_s"] = double.IsNaN(decodeTps) ? null : decodeTps, ["bandwidth_bound_tokens_per_s"] = double.IsNaN(decodeTps) ? null : bound,
            });
        }
        table.Add(w.Preset, "library Sampler.Generate (batched, shared prompt cache)", libTps, $"{libTps / baseline:F2}x", null, lib.Seconds, null, Bound(rows), null);
        arr.Add(new JsonObject { ["name"] = "library Sampler.Generate", ["tokens_per_s"] = libTps, ["seconds"] = lib.Seconds, ["generated"] = lib.GeneratedTokens });
        json["runs"] = arr;
        return json;

        Way Cached(Tensor ids, int steps, Tensor? reorder)
        {
            var clock = Stopwatch.StartNew();
            var rowsOut = reorder?.shape[0] ?? ids.shape[0];
            using var cache = new KvCache(c, ids.shape[0], (int)ids.shape[1] + steps);
            var last = Last(model.forward(ids, cache: cache));                          // (B0, V)
            if (reorder is not null)
            {
                cache.Reorder(reorder);
                var expanded = last.index_select(0, reorder);                            // (B, V)
                last.Dispose();
                last = expanded;
            }
            var prefill = clock.Elapsed.TotalSeconds;
            for (var t = 0; t < steps; t++)
            {
                using var scope = NewDisposeScope();
                var next = multinomial(softmax(last, -1), 1);                            // (B, 1)
                var logits = model.forward(next, cache: cache);
                last.Dispose();
                last = Last(logits).DetachFromDisposeScope();
            }
            last.Dispose();
            return new Way("", rowsOut, steps, prefill, clock.Elapsed.TotalSeconds - prefill);
        }

        Way NoCache(Tensor ids, int steps)
        {
            var clock = Stopwatch.StartNew();
            var seq = ids.clone();
            for (var t = 0; t < steps; t++)
            {
                using var scope = NewDisposeScope();
                var next = multinomial(softmax(Last(model.forward(seq)), -1), 1);
                var grown = cat([seq, next], 1).DetachFromDisposeScope();
                seq.Dispose();
                seq = grown;
            }
            seq.Dispose();
            return new Way("no cache, batched, full recompute each step", ids.shape[0], steps, 0, clock.Elapsed.TotalSeconds);
        }
    }

    private static Tensor Last(Tensor logits)
    {
        var last = logits[.., -1].contiguous(); // (B, V)
        logits.Dispose();
        return last;
    }
}
