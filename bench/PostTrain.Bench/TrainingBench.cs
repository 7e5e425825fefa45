using System.Diagnostics;
using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Pretrain;
using PostTrain.Trainers.Dpo;
using PostTrain.Trainers.Sft;
using TorchSharp;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>
/// Training throughput and MFU of the pretraining, SFT and DPO steps, each built from the stage libraries' own loss
/// functions (Pretrainer.LanguageModelLoss, SftTrainer.Loss, ConcatenatedForward + DpoLoss with cached reference
/// log-probs) followed by backward, global-norm clipping and AdamW, as the trainers' loops do.
/// </summary>
internal static class TrainingBench
{
    private const double Lr = 1e-4, Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8, WeightDecay = 0.1, Clip = 1.0;

    /// <summary>Per-step phase times (s): forward + loss, backward, clip + AdamW.</summary>
    internal sealed record StepTimes(Timing Total, double Forward, double Backward, double Optimizer);

    public static JsonObject Run(Workload w, Ceilings ceilings, Table table, Table dpoTable, out StepTimes pretrainStep, out double pretrainMfu)
    {
        manual_seed(0);
        var json = new JsonObject();
        using var model = new LlamaForCausalLM(w.Config);
        model.train();
        var flopsPerToken = ModelFlops.TrainingPerToken(w.Config, w.SeqLen);
        json["params_n"] = ModelFlops.Params(w.Config);
        json["params_total"] = model.ParameterCount();
        json["batch_rows"] = w.Batch;
        json["seq_len"] = w.SeqLen;
        json["flops_per_token"] = flopsPerToken;

        using var rows = w.PretrainRows();
        var sftRows = w.SftRows(w.Batch);
        using var sftBatch = Trainers.TokenBatch.Pad(sftRows, 0);
        var pairs = w.DpoPairs(Math.Max(1, w.Batch / 2));
        var (refChosen, refRejected) = ReferenceLogProbs(model, pairs);

        var steps = new (string Name, Func<Tensor> Loss)[]
        {
            ("pretrain", () => Pretrainer.LanguageModelLoss(model, rows)),
            ("sft", () => SftTrainer.Loss(sftBatch.Forward(model), sftBatch.Targets)),
            ("dpo (cached ref)", () => DpoStepLoss(model, pairs, refChosen, refRejected)),
        };
        var stepsJson = new JsonObject();
        pretrainStep = null!;
        pretrainMfu = double.NaN;
        foreach (var (name, loss) in steps)
        {
            var times = TimeSteps(model, loss, w.Warmup, w.Iters);
            var tokens = (double)w.Batch * w.SeqLen; // DPO: 2 × (Batch/2) rows
            var tps = tokens / times.Total.MedianSeconds;
            var achieved = tps * flopsPerToken;
            var mfu = achieved / ceilings.GemmFlops;
            table.Add(w.Preset, name, $"{w.Batch}x{w.SeqLen}", times.Total.MedianSeconds, tps, achieved / 1e9, $"{100 * mfu:F1}%",
                times.Forward, times.Backward, times.Optimizer);
            stepsJson[name] = new JsonObject
            {
                ["tokens_per_step"] = tokens, ["tokens_per_s"] = tps, ["achieved_gflops"] = achieved / 1e9, ["mfu"] = mfu,
                ["timing"] = times.Total.ToJson(),
                ["phases_s"] = new JsonObject { ["forward_loss"] = times.Forward, ["backward"] = times.Backward, ["clip_adamw"] = times.Optimizer },
            };
            if (name == "pretrain") (pretrainStep, pretrainMfu) = (times, mfu);
        }
        json["steps"] = stepsJson;
        json["dpo_reference_cost"] = DpoReferenceCost(w, model, dpoTable);
        refChosen.Dispose();
        refRejected.Dispose();
        return json;
    }

    /// <summary>The DPO trainer's batch loss: mean sigmoid DPO loss (β 0.1) + 0.2 × chosen NLL per token (DpoOptions defaults).</summary>
    public static Tensor DpoStepLoss(LlamaForCausalLM model, List<((int[] Ids, int[] Targets) Chosen, (int[] Ids, int[] Targets) Rejected)> pairs,
        Tensor refChosen, Tensor refRejected)
    {
        using var scope = NewDisposeScope();
        var (chosen, rejected, chosenTokens) = ConcatenatedForward.LogProbs(model, pairs, 0, CPU);
        var (losses, _, _) = DpoLoss.Compute(chosen, rejected, refChosen, refRejected, DpoLossType.Sigmoid, 0.1, 0.0);
        var loss = losses.mean() + 0.2 * (-chosen.sum() / Math.Max(chosenTokens, 1));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>log π_ref of both sides, no gradients: what ReferenceLogProbs caches once per dataset.</summary>
    public static (Tensor Chosen, Tensor Rejected) ReferenceLogProbs(LlamaForCausalLM reference,
        List<((int[] Ids, int[] Targets) Chosen, (int[] Ids, int[] Targets) Rejected)> pairs)
    {
        using var _ = no_grad();
        var (c, r, _) = ConcatenatedForward.LogProbs(reference, pairs, 0, CPU);
        return (c.DetachFromDisposeScope(), r.DetachFromDisposeScope());
    }

    public static optim.Optimizer NewAdamW(nn.Module model) => optim.AdamW(model.parameters(), Lr, Beta1, Beta2, Eps, WeightDecay);

    public static StepTimes TimeSteps(LlamaForCausalLM model, Func<Tensor> lossFn, int warmup, int iters)
    {
        using var optimizer = NewAdamW(model);
        var total = new List<double>();
        double fwd = 0, bwd = 0, opt = 0;
        for (var i = 0; i < warmup + iters; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            optimizer.zero_grad();
            var loss = lossFn();
            var t1 = clock.Elapsed.TotalSeconds;
            loss.backward();
            var t2 = clock.Elapsed.TotalSeconds;
            nn.utils.clip_grad_norm_(model.parameters(), Clip);
            optimizer.step();
            var t3 = clock.Elapsed.TotalSeconds;
            if (!double.IsFinite(loss.item<float>())) throw new InvalidOperationException($"loss is {loss.item<float>()} at step {i}, expected finite");
            if (i < warmup) continue;
            total.Add(t3);
            fwd += t1; bwd += t2 - t1; opt += t3 - t2;
        }
        return new StepTimes(Timing.FromSamples(total), fwd / iters, bwd / iters, opt / iters);
    }

    /// <summary>
    /// Time per DPO epoch with reference log-probs read from the cache vs a reference forward in every step (what TRL does
    /// without precompute_ref_log_probs), and the one-off cost of filling the cache.
    /// </summary>
    private static JsonObject DpoReferenceCost(Workload w, LlamaForCausalLM policy, Table table)
    {
        var pairsPerBatch = Math.Max(1, w.Batch / 2);
        // Three steps make the epoch: the ratio is per step, and each medium step costs seconds of the 20-minute budget.
        var batches = 3;
        var all = w.DpoPairs(pairsPerBatch * batches, seed: 7);
        var chunks = all.Chunk(pairsPerBatch).Select(c => c.ToList()).ToList();
        using var reference = new LlamaForCausalLM(w.Config);
        reference.load_state_dict(policy.state_dict());
        reference.eval();

        // Fill the cache once (the one-off cost), then an epoch reads it; the other epoch recomputes per step.
        var clock = Stopwatch.StartNew();
        var cached = chunks.Select(c => ReferenceLogProbs(reference, c)).ToList();
        var build = clock.Elapsed.TotalSeconds;

        using var optimizer = NewAdamW(policy);
        // One untimed step first so both epochs run with AdamW moments allocated and caches warm.
        Epoch(chunks.Take(1).ToList(), i => cached[i], owned: false);
        var cachedEpoch = Epoch(chunks, i => cached[i], owned: false);
        var recomputeEpoch = Epoch(chunks, i => ReferenceLogProbs(reference, chunks[i]), owned: true);
        foreach (var (c, r) in cached) { c.Dispose(); r.Dispose(); }

        table.Add(w.Preset, chunks.Count, pairsPerBatch, cachedEpoch, recomputeEpoch, build, $"{recomputeEpoch / cachedEpoch:F2}x",
            $"{100 * (recomputeEpoch - cachedEpoch) / recomputeEpoch:F0}%");
        return new JsonObject
        {
            ["steps_per_epoch"] = chunks.Count, ["pairs_per_step"] = pairsPerBatch, ["epoch_s_cached"] = cachedEpoch,
            ["epoch_s_recompute"] = recomputeEpoch, ["cache_build_s"] = build, ["speedup"] = recomputeEpoch / cachedEpoch,
        };

        double Epoch(List<List<((int[] Ids, int[] Targets) Chosen, (int[] Ids, int[] Targets) Rejected)>> epoch, Func<int, (Tensor, Tensor)> refs, bool owned)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < epoch.Count; i++)
            {
                using var scope = NewDisposeScope();
                var (rc, rr) = refs(i);
                optimizer.zero_grad();
                DpoStepLoss(policy, epoch[i], rc, rr).backward();
                nn.utils.clip_grad_norm_(policy.parameters(), Clip);
                optimizer.step();
                if (owned) { rc.Dispose(); rr.Dispose(); }
            }
            return sw.Elapsed.TotalSeconds;
        }
    }
}
