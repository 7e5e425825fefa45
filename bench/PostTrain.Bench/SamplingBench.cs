using System.Text.Json;
using System.Text.Json.Nodes;
using PostTrain.Model;
using PostTrain.Model.Checkpoints;
using PostTrain.Sampling;
using static TorchSharp.torch;

namespace PostTrain.Bench;

/// <summary>
/// The library's <see cref="Sampler"/> (continuous batching, prompt prefilled once and its cache copied to its N slots,
/// sampling on the tensor) at iterate's Sample settings, read from workflows/iterate.json (batch size, max new tokens, N)
/// so the headline is what iterate runs, and at 32 rows, one sequence at a time, and the PyTorch peer sampling the same
/// weights at the same batch. Each run has its roofline: the step time bound
/// max(FLOPs ÷ this run's GEMM ceiling, bytes of weights + K/V read ÷ copy bandwidth) at the mean cache length.
/// Temperature 1, no stop tokens, so every row generates the same number of tokens and the runs compare like for like.
/// </summary>
internal static class SamplingBench
{
    public static JsonObject Run(Workload w, Ceilings ceilings, string repo, bool quick, Table table)
    {
        var c = w.Config;
        var iterate = IterateSampling(repo);
        var (n, promptLen, newTokens) = (iterate.SamplesPerPrompt, 32, quick ? Math.Min(16, iterate.MaxNewTokens) : iterate.MaxNewTokens);
        var bigRows = Math.Max(1, iterate.BatchSize / n) * n;
        newTokens = Math.Min(newTokens, c.MaxPositionEmbeddings - promptLen);
        manual_seed(0);
        using var model = new LlamaForCausalLM(c);
        model.eval();
        // Twice the big batch's prompts: the second half refills the slots the first half frees (continuous batching).
        var promptRows = w.RandomRows(2 * bigRows / n, promptLen, seed: 11);
        var smallPrompts = Math.Max(1, 64 / n);
        var prompts = promptRows.Select((ids, i) => new TokenPrompt($"p{i}", ids)).ToArray();
        var meanCached = promptLen + newTokens / 2.0;

        Library(prompts[..2], 2 * n); // warm-up
        var startFlops = ceilings.PackedGemmFlops;
        ceilings = ceilings.RemeasurePacked(quick, $"before sampling {w.Preset}");
        var runs = new JsonArray();
        // The fastest of three runs of each: on a 2-vCPU VM a few steps of one run are stretched by whatever else the host
        // runs (single steps at 2x the median), and the median of one run mostly measures that.
        var repeats = quick ? 1 : 3;
        var big = Fastest(() => Library(prompts, bigRows));
        var small = Fastest(() => Library(prompts[..smallPrompts], 32));
        // Each of its sequences prefills its own prompt (nothing shared), and the same weights are packed for it alone.
        var single = Fastest(() => Library(prompts[..(quick ? 2 : 16)], 1, samples: 1));
        // The same run through the reference forward (src/Model/Llama.cs) instead of CpuForward: a no-op hook on one
        // projection is enough for the decoder to take it, so the two compare under the same load.
        SamplingStats reference;
        var hook = model.model.layers[0].self_attn.q_proj.register_forward_hook((_, _, y) => y);
        try { reference = Fastest(() => Library(prompts, bigRows)); }
        finally { hook.remove(); }
        Add($"Sampler, continuous batching, {big.Slots} slots", big);
        Add($"the same through the reference forward (CpuForward off: {reference.FastDecodeSteps} of {reference.DecodeSteps} steps on it)", reference);
        Add("Sampler, continuous batching, 32 slots", small);
        Add("Sampler, one sequence at a time", single);
        // Setup (allocation, packing) is paid once per call: a one-at-a-time run over all of iterate's prompts would spread it
        // as thinly as the batch does, so both sides compare without it (it was 23-37% of the 8-prompt single run).
        var speedup = big.SustainedTokensPerSecond / single.SustainedTokensPerSecond;
        var speedupAtRooflines = AtRooflines(c, ceilings, bigRows, n, promptLen, newTokens);

        // The peer samples the same weights at the same batch: bigRows / n prompts, N each.
        JsonNode peerJson;
        double? peerTps = null;
        try
        {
            var peer = Peer(repo, model, promptRows[..(bigRows / n)], n, newTokens);
            peerTps = peer["decode_tokens_per_s"]!.GetValue<double>();
            var roof = Roofline(c, ceilings, bigRows, meanCached);
            table.Add(w.Preset, $"PyTorch {peer["torch"]} peer, static batch, shared prompt cache", bigRows, null, peer["decode_s"]!.GetValue<double>(),
                peerTps, roof, $"{100 * peerTps / roof:F0}%", "");
            peerJson = peer;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            Console.WriteLine($"[sampling] PyTorch peer skipped: {e.Message}");
            peerJson = new JsonObject { ["error"] = e.Message };
        }
        var bigDecode = big.DecodeTokensPerSecond;
        Console.WriteLine($"[sampling] {w.Preset}: decode {bigDecode:F0} tokens/s at {big.Slots} rows = {100 * bigDecode / Roofline(c, ceilings, big.Slots, meanCached):F0}% of its roofline (GEMM ceiling {ceilings.BestGemmFlops / 1e9:F0} GFLOP/s, re-measured just before)"
            + (peerTps is double p ? $"; PyTorch peer {p:F0} tokens/s at the same batch ({bigDecode / p:F2}x)" : "")
            + $"; {bigDecode / reference.DecodeTokensPerSecond:F2}x its decode through the reference forward ({big.FastDecodeSteps} of {big.DecodeSteps} steps on CpuForward)"
            + $"; batched {speedup:F1}x one sequence at a time ({speedupAtRooflines:F1}x with both at their rooflines); {big.KvBytesPerSlot / 1024.0:F0} KiB K/V per slot, {big.KvCacheBytes / 1048576.0:F1} MiB for {big.Slots} slots (limited by {big.SlotsLimitedBy})");
        return new JsonObject
        {
            ["samples_per_prompt"] = n, ["prompt_len"] = promptLen, ["new_tokens"] = newTokens, ["temperature"] = 1.0,
            ["settings_from"] = $"workflows/iterate.json Sample step: batchSize {iterate.BatchSize}, maxNewTokens {iterate.MaxNewTokens}, samplesPerPrompt default {iterate.SamplesPerPrompt}",
            ["roofline"] = "rows / max(rows * forward FLOPs per token / the best fp32 GEMM FLOP/s (libtorch at the run's start, or PackedMatrix re-measured right before this preset's sampling), (4 * params + K/V bytes of every row at the mean cache length) / copy bytes/s)",
            ["gemm_packed_gflops"] = ceilings.PackedGemmFlops / 1e9, ["gemm_packed_gflops_at_run_start"] = startFlops / 1e9,
            ["runs"] = runs,
            ["pytorch_peer"] = peerJson,
            ["batched_over_one_at_a_time"] = speedup,
            ["batched_over_one_at_a_time_basis"] = "generated tokens per second, prefill included, setup (K/V allocation, weight packing) excluded, on both sides",
            ["batched_over_one_at_a_time_at_rooflines"] = speedupAtRooflines,
            ["decode_over_pytorch_peer"] = peerTps is double q ? bigDecode / q : null,
            ["decode_over_reference_forward"] = bigDecode / reference.DecodeTokensPerSecond,
        };

        SamplingStats Fastest(Func<SamplingStats> run) => Enumerable.Range(0, repeats).Select(_ => run()).MinBy(s => s.Seconds)!;

        SamplingStats Library(TokenPrompt[] ps, int batch, int samples = 0)
        {
            var options = new SamplingOptions { SamplesPerPrompt = samples > 0 ? samples : n, MaxNewTokens = newTokens, BatchSize = batch, StopIds = [], Temperature = 1.0, Seed = 1 };
            return new Sampler(model, options).Generate(ps).Stats;
        }

        void Add(string name, SamplingStats s)
        {
            var roof = Roofline(c, ceilings, s.Slots, meanCached);
            var decode = s.DecodeTokensPerSecond;
            var other = s.Seconds - s.PrefillSeconds - s.SelectSeconds - s.ForwardSeconds - s.SetupSeconds;
            table.Add(w.Preset, name, s.Slots, s.PrefillSeconds, s.Seconds - s.PrefillSeconds - s.SetupSeconds, decode, roof, $"{100 * decode / roof:F0}%",
                $"forward {100 * s.ForwardSeconds / s.Seconds:F0}%, select {100 * s.SelectSeconds / s.Seconds:F0}%, prefill {100 * s.PrefillSeconds / s.Seconds:F0}%, setup {100 * s.SetupSeconds / s.Seconds:F0}%, rest {100 * other / s.Seconds:F0}%");
            runs.Add(new JsonObject
            {
                ["name"] = name, ["rows"] = s.Slots, ["prompts"] = s.Prompts, ["sequences"] = s.Sequences, ["generated"] = s.GeneratedTokens,
                ["seconds"] = s.Seconds, ["prefill_s"] = s.PrefillSeconds, ["setup_s"] = s.SetupSeconds, ["select_s"] = s.SelectSeconds, ["forward_s"] = s.ForwardSeconds,
                ["tokens_per_s"] = s.TokensPerSecond, ["sustained_tokens_per_s"] = s.SustainedTokensPerSecond, ["decode_tokens_per_s"] = decode, ["roofline_tokens_per_s"] = roof,
                ["share_of_roofline"] = decode / roof, ["kv_bytes_per_slot"] = s.KvBytesPerSlot,
                ["decode_steps"] = s.DecodeSteps, ["fast_decode_steps"] = s.FastDecodeSteps,
                ["kv_cache_bytes"] = s.KvCacheBytes, ["kv_cache_budget_bytes"] = new SamplingOptions().KvCacheBudgetBytes, ["slots_limited_by"] = s.SlotsLimitedBy,
            });
        }
    }

    /// <summary>iterate's Sample step: its batchSize and maxNewTokens inputs and the samplesPerPrompt parameter's default.</summary>
    public static (int BatchSize, int MaxNewTokens, int SamplesPerPrompt) IterateSampling(string repo)
    {
        var path = Path.Combine(repo, "workflows", "iterate.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        JsonObject? Find(JsonNode? node) => node switch
        {
            JsonObject o when o["type"]?.GetValueKind() == JsonValueKind.String && (string?)o["type"] == "Sample" => o,
            JsonObject o => o.Select(kv => Find(kv.Value)).FirstOrDefault(x => x is not null),
            JsonArray a => a.Select(Find).FirstOrDefault(x => x is not null),
            _ => null,
        };
        var inputs = Find(root["activities"])?["inputs"] ?? throw new InvalidDataException($"{path}: no activity of type Sample");
        // An input bound to a workflow parameter ({"param": name}) takes that parameter's default, as a run without -p does.
        int Int(JsonNode? n, string field) => n switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<int>(),
            JsonObject { } o when (string?)o["param"] is { } name => Int(root["parameters"]?[name]?["default"], $"parameters.{name}.default"),
            _ => throw new InvalidDataException($"{path}: {field}: expected a number or a parameter with a numeric default"),
        };
        return (Int(inputs["batchSize"], "Sample.inputs.batchSize"), Int(inputs["maxNewTokens"], "Sample.inputs.maxNewTokens"),
            Int(root["parameters"]?["samplesPerPrompt"]?["default"], "parameters.samplesPerPrompt.default"));
    }

    /// <summary>Tokens/s a decode step of <paramref name="rows"/> rows cannot beat on this machine: the slower of its GEMM time and its memory time.</summary>
    public static double Roofline(LlamaConfig c, Ceilings ceilings, long rows, double cachedPositions)
    {
        var compute = rows * ModelFlops.ForwardPerToken(c, (int)Math.Round(cachedPositions)) / ceilings.BestGemmFlops;
        var memory = ModelFlops.DecodeBytes(c, rows, cachedPositions) / ceilings.CopyBytesPerSecond;
        return rows / Math.Max(compute, memory);
    }

    /// <summary>
    /// Batched ÷ one at a time if both ran at their rooflines: per sequence, the batch pays a 1/N share of its prompt's
    /// prefill and <paramref name="newTokens"/> steps of <paramref name="rows"/> rows; the single sequence pays the whole
    /// prefill and its steps alone. Decode dominates, so this is close to the ratio of the two decode rooflines, about
    /// 2 × GEMM FLOP/s ÷ memory bytes/s (each weight's 2 FLOPs per row against its 4 bytes read once per step): a
    /// measured ratio above it means the one-sequence path runs further below its roofline than the batch does.
    /// </summary>
    public static double AtRooflines(LlamaConfig c, Ceilings ceilings, int rows, int n, int promptLen, int newTokens)
    {
        var meanCached = promptLen + newTokens / 2.0;
        var prefill = promptLen / Roofline(c, ceilings, promptLen, promptLen / 2.0);
        var single = prefill + newTokens / Roofline(c, ceilings, 1, meanCached);
        var batched = prefill / n + newTokens / Roofline(c, ceilings, rows, meanCached);
        return single / batched;
    }

    private static JsonObject Peer(string repo, LlamaForCausalLM model, int[][] prompts, int n, int newTokens)
    {
        var dir = Directory.CreateTempSubdirectory("posttrain-bench-sample-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, Checkpoint.ConfigFile), model.Config.ToJson());
            SafeTensors.Write(Path.Combine(dir, Checkpoint.WeightsFile), model.state_dict());
            var spec = Path.Combine(dir, "sample.json");
            File.WriteAllText(spec, new JsonObject { ["prompts"] = JsonSerializer.SerializeToNode(prompts), ["n"] = n, ["new_tokens"] = newTokens }.ToJsonString());
            var result = PeerBench.Launch(repo, "--model", dir, "--sample", spec);
            var sample = (JsonObject)result["sample"]!.DeepClone();
            sample["torch"] = result["torch"]?.DeepClone();
            return sample;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
