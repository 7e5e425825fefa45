using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Pretrain;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>
/// The same model (the same model.safetensors), the same batch and the same AdamW step in PyTorch (bench/peer/peer.py on
/// Debian's python3-torch), timed in the same run. Ratios are PostTrain time / PyTorch time: below 1 means PostTrain is faster.
/// </summary>
internal static class PeerBench
{
    public const string Python = "/usr/bin/python3";
    private const double Lr = 1e-3, Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8, WeightDecay = 0.1, Clip = 1.0;

    public static JsonObject Run(Workload w, string repo, bool quick, Table table, Table lossTable)
    {
        var c = w.Config;
        var dir = Directory.CreateTempSubdirectory("posttrain-bench-peer-").FullName;
        try
        {
            manual_seed(0);
            using var model = new LlamaForCausalLM(c);
            model.train();
            File.WriteAllText(Path.Combine(dir, Checkpoint.ConfigFile), c.ToJson());
            SafeTensors.Write(Path.Combine(dir, Checkpoint.WeightsFile), model.state_dict());
            var rowsArr = w.RandomRows(w.Batch, w.SeqLen + 1, seed: 21);
            using var rows = Workload.ToTensor(rowsArr);
            var (decodeBatch, decodePrompt, decodeSteps) = (8, Math.Min(64, c.MaxPositionEmbeddings / 2), quick ? 8 : 32);
            var spec = new JsonObject
            {
                ["rows"] = JsonSerializer.SerializeToNode(rowsArr),
                ["adamw"] = new JsonObject { ["lr"] = Lr, ["beta1"] = Beta1, ["beta2"] = Beta2, ["eps"] = Eps, ["weight_decay"] = WeightDecay, ["clip"] = Clip },
                ["decode"] = new JsonObject { ["batch"] = decodeBatch, ["prompt"] = decodePrompt, ["steps"] = decodeSteps },
            };
            var specPath = Path.Combine(dir, "batch.json");
            File.WriteAllText(specPath, spec.ToJsonString());

            // PostTrain side, in the peer's order: loss, one step, loss again, then the timings.
            using var optimizer = optim.AdamW(model.parameters(), Lr, Beta1, Beta2, Eps, WeightDecay);
            double Loss() { using var g = no_grad(); using var l = Pretrainer.LanguageModelLoss(model, rows); return l.item<float>(); }
            void Step()
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                Pretrainer.LanguageModelLoss(model, rows).backward();
                nn.utils.clip_grad_norm_(model.parameters(), Clip);
                optimizer.step();
            }
            var loss0 = Loss();
            Step();
            var loss1 = Loss();
            var (warm, iters) = (1, quick ? 2 : Math.Max(3, w.Iters));
            using var inputs = rows[.., TensorIndex.Slice(0, w.SeqLen)];
            var fwd = Timing.Measure(() => { using var g = no_grad(); using var scope = NewDisposeScope(); model.forward(inputs); }, warm, iters);
            var step = Timing.Measure(Step, warm, iters);
            var decode = DecodeStep(model, decodeBatch, decodePrompt, decodeSteps, warm);

            var peer = LaunchPeer(repo, dir, specPath, warm, iters, quick);
            var peerLoss0 = peer["loss_initial"]!.GetValue<double>();
            var peerLoss1 = peer["loss_after_step"]!.GetValue<double>();
            var ok = Math.Abs(loss0 - peerLoss0) <= 1e-4;
            lossTable.Add(w.Preset, $"{w.Batch}x{w.SeqLen}", $"{loss0:F7}", $"{peerLoss0:F7}", $"{Math.Abs(loss0 - peerLoss0):E2}", ok ? "PASS (<=1e-4)" : "FAIL (>1e-4)",
                $"{loss1:F7}", $"{peerLoss1:F7}", $"{Math.Abs(loss1 - peerLoss1):E2}");

            var json = new JsonObject
            {
                ["batch"] = $"{w.Batch}x{w.SeqLen}", ["decode"] = spec["decode"]!.DeepClone(),
                ["loss_initial"] = new JsonObject { ["posttrain"] = loss0, ["pytorch"] = peerLoss0, ["abs_diff"] = Math.Abs(loss0 - peerLoss0), ["within_1e-4"] = ok },
                ["loss_after_one_adamw_step"] = new JsonObject { ["posttrain"] = loss1, ["pytorch"] = peerLoss1, ["abs_diff"] = Math.Abs(loss1 - peerLoss1) },
                ["peer"] = peer,
            };
            var ratios = new JsonObject();
            foreach (var (name, mine, key) in new[] { ("forward (no grad)", fwd, "forward"), ("training step (fwd+bwd+clip+AdamW)", step, "train_step"), ("decode step (KV cache)", decode, "decode_step") })
            {
                var theirs = peer[key]!["median_s"]!.GetValue<double>();
                table.Add(w.Preset, name, mine.MedianSeconds * 1e3, theirs * 1e3, $"{mine.MedianSeconds / theirs:F2}");
                ratios[key] = new JsonObject { ["posttrain_s"] = mine.MedianSeconds, ["pytorch_s"] = theirs, ["ratio_posttrain_over_pytorch"] = mine.MedianSeconds / theirs };
            }
            if (peer["gemm"] is JsonObject g)
                table.Add(w.Preset, $"(ceiling) {g["n"]}² fp32 GEMM GFLOP/s, peer", null, g["gflops"]!.GetValue<double>(), "see Ceilings");
            json["ratios"] = ratios;
            return json;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Median time of one-token decode steps of <paramref name="batch"/> rows after a <paramref name="prompt"/>-token prefill.</summary>
    public static Timing DecodeStep(LlamaForCausalLM model, int batch, int prompt, int steps, int warmup)
    {
        using var g = no_grad();
        var wasTraining = model.training;
        model.eval();
        var times = new List<double>();
        var gen = new Random(1);
        using var promptIds = tensor(Enumerable.Range(0, batch * prompt).Select(_ => (long)gen.Next(model.Config.VocabSize)).ToArray(), [batch, prompt]);
        using var next = tensor(Enumerable.Range(0, batch).Select(_ => (long)gen.Next(model.Config.VocabSize)).ToArray(), [batch, 1]);
        for (var rep = 0; rep <= warmup; rep++)
        {
            using var cache = new KvCache(model.Config, batch, prompt + steps);
            using (var scope = NewDisposeScope()) model.forward(promptIds, cache: cache);
            for (var s = 0; s < steps; s++)
            {
                using var scope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                model.forward(next, cache: cache);
                if (rep == warmup) times.Add(clock.Elapsed.TotalSeconds);
            }
        }
        model.train(wasTraining);
        return Timing.FromSamples(times);
    }

    private static JsonObject LaunchPeer(string repo, string dir, string specPath, int warm, int iters, bool quick) =>
        Launch(repo, "--model", dir, "--batch", specPath, "--warmup", warm.ToString(), "--iters", iters.ToString(), "--gemm", quick ? "1024" : "2048");

    /// <summary>Runs bench/peer/peer.py with <paramref name="args"/> on as many threads as this process; returns its JSON.</summary>
    internal static JsonObject Launch(string repo, params string[] args)
    {
        var script = Path.Combine(repo, "bench", "peer", "peer.py");
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { script, "--threads", get_num_threads().ToString() }.Concat(args))
            psi.ArgumentList.Add(a);
        // Debian's torch must not pick up a pyenv site-packages or thread settings from the caller.
        psi.Environment.Remove("PYTHONPATH");
        psi.Environment["OMP_NUM_THREADS"] = get_num_threads().ToString();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Python}");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Python} {script} exited with {p.ExitCode}, expected 0: {stderr.Result.Trim()}");
        try { return JsonNode.Parse(stdout)!.AsObject(); }
        catch (JsonException e) { throw new InvalidOperationException($"{script}: stdout is not JSON ({e.Message}): {stdout[..Math.Min(300, stdout.Length)]}", e); }
    }
}
