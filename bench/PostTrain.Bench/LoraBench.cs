using System.Diagnostics;
using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Model.Tokenization;
using PostTrain.Trainers.Dpo;
using PostTrain.Trainers.Sft;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>
/// One SFT step and one DPO step of a random-init model of Llama-3.2-1B's shape with LoRA rank 16 on every projection:
/// seconds per step and peak RSS (the goal is under 16 GiB on this 24 GiB machine). Heavy (a 5 GB model), so it runs
/// only when asked: <c>bash bench/run.sh --only lora1b</c>.
/// </summary>
internal static class LoraBench
{
    /// <summary>Llama-3.2-1B's config.json, weights drawn at random.</summary>
    public static LlamaConfig Llama32OneB => new()
    {
        VocabSize = 128256, HiddenSize = 2048, IntermediateSize = 8192, NumHiddenLayers = 16, NumAttentionHeads = 32,
        NumKeyValueHeads = 8, ExplicitHeadDim = 64, RmsNormEps = 1e-5, RopeTheta = 500000, MaxPositionEmbeddings = 131072,
        TieWordEmbeddings = true, BosTokenId = 128000, EosTokenIds = [128001, 128008, 128009],
        RopeScaling = new RopeScaling { RopeType = "llama3", Factor = 32, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 },
    };

    /// <summary>Peak and current resident set of this process in GiB, from /proc/self/status (VmHWM, VmRSS).</summary>
    public static (double Peak, double Current) Rss()
    {
        double Read(string key) => File.ReadLines("/proc/self/status").Where(l => l.StartsWith(key, StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / (1024 * 1024)).FirstOrDefault();
        return (Read("VmHWM:"), Read("VmRSS:"));
    }

    public static JsonObject Run(Table table, int length = 128, int batch = 2)
    {
        var json = new JsonObject { ["model"] = "Llama-3.2-1B shape, random init, fp32 weights", ["sequence_tokens"] = length, ["rows_per_step"] = batch };
        var clock = Stopwatch.StartNew();
        manual_seed(0);
        using var policy = new LlamaForCausalLM(Llama32OneB);
        json["parameters"] = policy.ParameterCount();
        json["init_s"] = clock.Elapsed.TotalSeconds;
        json["rss_after_init_gib"] = Rss().Current;

        var rng = new Random(1);
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(1000, 120000)).ToArray();
        ChatEncoding Example(int[] prompt, int[] response)
        {
            var ids = prompt.Concat(response).ToArray();
            return new ChatEncoding(ids, new bool[ids.Length], prompt.Length);
        }
        var options = (Rank: 16, Alpha: 32.0);

        // SFT: `batch` examples of `length` tokens (half prompt, half response), one optimizer step in `batch` micro-batches.
        var sft = new SftTrainer(new SftOptions { MaxLength = length, BatchSize = batch, GradientAccumulationSteps = batch, LoraRank = options.Rank, LoraAlpha = options.Alpha, WarmupRatio = 0 });
        var examples = Enumerable.Range(0, batch).Select(_ => Example(Tokens(length / 2), Tokens(length / 2))).ToList();
        clock.Restart();
        var sftResult = sft.Train(policy, examples, null, padId: 0);
        var sftSeconds = clock.Elapsed.TotalSeconds;
        var sftRss = Rss();
        table.Add("SFT", $"{batch} x {length}", sftSeconds, sftRss.Peak, sftResult.LossHistory[0]);
        Console.WriteLine($"[lora1b] SFT step {sftSeconds:F1} s, peak RSS {sftRss.Peak:F2} GiB (init {json["init_s"]} s)");

        // DPO: `batch` pairs of `length`-token sequences; the reference log-probs come from the same policy (no second model).
        var pairs = Enumerable.Range(0, batch).Select(_ =>
        {
            var prompt = Tokens(length / 2);
            return new PreferenceEncoding(Example(prompt, Tokens(length / 2)), Example(prompt, Tokens(length / 2)));
        }).ToList();
        var dpoOptions = new DpoOptions { MaxLength = length, BatchSize = batch, GradientAccumulationSteps = batch, LoraRank = options.Rank, LoraAlpha = options.Alpha, WarmupRatio = 0, MaskFormattingTokens = false };
        clock.Restart();
        var reference = ReferenceLogProbs.Compute(policy, pairs, "bench", "bench", false, length, batch, 0);
        var referenceSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var dpoResult = new DpoTrainer(dpoOptions).Train(policy, pairs, reference, padId: 0);
        var dpoSeconds = clock.Elapsed.TotalSeconds;
        var dpoRss = Rss();
        table.Add("DPO", $"{batch} pairs x 2 x {length}", dpoSeconds, dpoRss.Peak, dpoResult.Metrics[DpoTrainer.Loss]);
        table.Add("DPO reference log-probs (once)", $"{batch} pairs x 2 x {length}", referenceSeconds, dpoRss.Peak, double.NaN);

        json["lora"] = new JsonObject { ["rank"] = options.Rank, ["alpha"] = options.Alpha, ["targets"] = "all seven projections" };
        json["sft"] = new JsonObject { ["step_s"] = sftSeconds, ["peak_rss_gib"] = sftRss.Peak, ["loss"] = sftResult.LossHistory[0], ["micro_batches"] = batch };
        json["dpo"] = new JsonObject { ["step_s"] = dpoSeconds, ["reference_s"] = referenceSeconds, ["peak_rss_gib"] = dpoRss.Peak, ["loss"] = dpoResult.Metrics[DpoTrainer.Loss], ["micro_batches"] = batch };
        json["goal_peak_rss_gib"] = 16;
        json["note"] = "step_s includes attaching the adapters and merging them afterwards (one step per Train call)";
        return json;
    }
}
